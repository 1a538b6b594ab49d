"""Exports for people and machines: approval reports (HTML, Markdown, JSON, SARIF), the
CycloneDX AI-BOM of the inventory, and the quarterly review's report.

Everything here reads records (ledger, registry, stage evidence) and renders them; it
never runs a stage, never imports a UI, and never loads a candidate's files.
"""
