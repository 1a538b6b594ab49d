"""The code viewer: the custom code a candidate ships, syntax-highlighted and read-only.

Files come from the scan stage's ``custom_code`` evidence (Python files and the configs
that point at code). Their text is read from the review's files folder and shown with
rich's Syntax: never imported, never run. The static summary the scan made sits on top.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

from rich.syntax import Syntax
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Header, OptionList, Static
from textual.widgets.option_list import Option

from curator.core.evidence import EvidenceError, ScanEvidence
from curator.core.models import Review, StageResult
from curator.core.text import shown
from curator.review.session import Session

MAX_SHOWN_BYTES = 2 << 20


def summary_text(entry: dict[str, Any]) -> Text:
    """What the scan's static read of one file found."""
    line = Text(shown(entry["path"]), style="bold")
    summary = entry.get("summary") or {}
    for kind, names in (summary.get("imports") or {}).items():
        if names:
            line.append(f"\n{shown(kind)}: ", style="bold red")
            line.append(shown(", ".join(names)))
    if summary.get("dynamic"):
        line.append("\nexec/eval/decoding: ", style="bold red")
        line.append(shown(", ".join(f"{d['call']} (line {d['line']})" for d in summary["dynamic"][:8])))
    for blob in (summary.get("blobs") or [])[:4]:
        line.append(f"\n{shown(blob['kind'])} blob of {blob['chars']:,} chars (line {blob['line']})",
                    style="yellow")
    if summary.get("parse_error"):
        line.append(f"\n{shown(summary['parse_error'])}", style="yellow")
    for ref in entry.get("references") or []:
        where = f"from {ref['remote_repo']}" if ref.get("remote_repo") else (
            "present" if ref.get("present") else "missing")
        line.append("\n" + shown(f"{ref['key']} → {ref['reference']} ({ref['module_file']}, {where})"))
    for unknown in entry.get("unknown_classes") or []:
        line.append("\n" + shown(f"{unknown['key']} {unknown['class']}: not a transformers class"),
                    style="yellow")
    return line


def read_code(files_dir: Path, rel: str) -> Syntax | Text:
    """The file's text, highlighted by its extension; never more than ``MAX_SHOWN_BYTES``."""
    path = files_dir / rel
    try:
        with open(path, "rb") as fh:
            data = fh.read(MAX_SHOWN_BYTES + 1)
    except OSError as exc:
        return Text(shown(f"cannot read {rel}: {exc.strerror}"), style="red")
    # a publisher's source may carry escape sequences: shown, never sent to the terminal
    text = shown(data[:MAX_SHOWN_BYTES].decode("utf-8", errors="replace"), keep_newlines=True)
    if len(data) > MAX_SHOWN_BYTES:
        text += f"\n# … cut at {MAX_SHOWN_BYTES >> 20} MiB"
    lexer = "python" if rel.endswith(".py") else "json" if rel.endswith(".json") else "text"
    return Syntax(text, lexer, line_numbers=True, word_wrap=False, theme="ansi_dark")


class CodeScreen(Screen[None]):
    """Custom-code files on the left; the selected one's summary and text on the right."""

    CSS_PATH = "code.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "back", "Back")]

    def __init__(self, files_dir: Path, entries: list[dict[str, Any]], selected: str | None = None) -> None:
        super().__init__()
        self.files_dir = files_dir
        self.entries = {e["path"]: e for e in entries}
        self.selected = selected if selected in self.entries else next(iter(self.entries), None)

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal():
            yield OptionList(*[Option(path, id=path) for path in self.entries], id="code-files")
            with VerticalScroll(id="code-view"):
                yield Static(id="code-summary")
                yield Static(id="code-text")
        yield Footer()

    def on_mount(self) -> None:
        files = self.query_one("#code-files", OptionList)
        files.border_title = "Custom code"
        if self.selected is not None:
            files.highlighted = list(self.entries).index(self.selected)
            self.show(self.selected)
        files.focus()

    def show(self, rel: str) -> None:
        """Show one file's summary and highlighted text."""
        self.selected = rel
        self.query_one("#code-summary", Static).update(summary_text(self.entries[rel]))
        self.query_one("#code-text", Static).update(read_code(self.files_dir, rel))

    def on_option_list_option_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        if event.option.id:
            self.show(event.option.id)

    def action_back(self) -> None:
        self.app.pop_screen()


def code_entries(scan: StageResult | None) -> list[dict[str, Any]]:
    """The custom-code files of a scan result (Python files first); none when the recorded evidence
    is unreadable (the scan panel says why)."""
    try:
        info = ScanEvidence.of(scan).custom_code
    except EvidenceError:
        return []
    entries = [dict(e) for e in (info.files if info is not None else ()) if e.get("path")]
    return sorted(entries, key=lambda e: (not str(e["path"]).endswith(".py"), e["path"]))


def open_code(screen: Screen[Any], session: Session, review: Review | None, scan: StageResult | None) -> None:
    """Push the code viewer on a review's custom code, or say there is none."""
    entries = code_entries(scan)
    if review is None or not entries:
        screen.notify("No custom code found (or the scan has not run).", severity="warning")
        return
    screen.app.push_screen(CodeScreen(session.files_dir(review.id), entries))
