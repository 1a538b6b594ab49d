"""The Textual user interface: an observer and a front end of the review service.

Nothing outside ``curator.tui`` imports Textual; importing this package itself stays
light so the CLI can reach ``curator.tui.items`` without loading Textual.
"""
