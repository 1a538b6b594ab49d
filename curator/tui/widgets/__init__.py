"""Widgets of the review and queue screens."""
