"""Curator keys, decision statements, and DSSE sign/verify. Never imports a UI."""
