"""How statuses, sizes and digests look on screen (shared by every screen and panel)."""

from __future__ import annotations

from rich.text import Text

from curator.core.models import Severity, Status

#: one glyph and one colour per stage status; "·" marks a stage not run yet
STATUS_GLYPH: dict[Status | None, tuple[str, str]] = {
    Status.PASSED: ("✔", "green"),
    Status.WARNED: ("▲", "yellow"),
    Status.FAILED: ("✘", "red"),
    Status.ERRORED: ("!", "magenta"),
    Status.SKIPPED: ("–", "dim"),
    None: ("·", "grey50"),
}
SPINNER = "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏"
SEVERITY_STYLE = {
    Severity.CRITICAL: "bold red",
    Severity.HIGH: "red",
    Severity.MEDIUM: "yellow",
    Severity.LOW: "cyan",
    Severity.INFO: "dim",
}
RECOMMENDATION_STYLE = {"approve": "green", "reject": "red", "needs-review": "yellow"}


def glyph(status: Status | None) -> Text:
    """The coloured glyph of a status (``None`` = not run yet)."""
    char, style = STATUS_GLYPH[status]
    return Text(char, style=style)


def status_text(status: Status | None) -> Text:
    """Glyph and word, e.g. ``✔ passed`` in green."""
    char, style = STATUS_GLYPH[status]
    return Text(f"{char} {status.value if status else 'not run'}", style=style)


def human_bytes(size: float) -> str:
    """``1.5 MiB``-style sizes: binary units, one decimal above bytes."""
    value = float(size)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if abs(value) < 1024 or unit == "TiB":
            return f"{int(value)} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    raise AssertionError("unreachable")


def human_seconds(seconds: float) -> str:
    """``42s``, ``3m05s``, ``1h02m``: short enough for a progress line."""
    whole = max(0, int(seconds))
    if whole < 60:
        return f"{whole}s"
    if whole < 3600:
        return f"{whole // 60}m{whole % 60:02d}s"
    return f"{whole // 3600}h{whole // 60 % 60:02d}m"


def short_digest(digest: str, keep: int = 16) -> str:
    """The first ``keep`` hex digits and an ellipsis; a ``sha256:`` prefix is kept."""
    prefix, _, hexpart = digest.rpartition(":")
    head = f"{prefix}:" if prefix else ""
    return f"{head}{hexpart[:keep]}…" if len(hexpart) > keep else digest
