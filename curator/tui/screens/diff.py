"""The diff screen: a new revision against the inventory model it would replace.

Highlights (signer, license, new custom code, scan verdict) come first, then files, card,
scan, signature and eval, each as a table of what changed. Opened from the review screen
(``v``) or with a diff document built by ``curator.changes.diff``.
"""

from __future__ import annotations

from typing import Any, ClassVar

from rich import box
from rich.console import RenderableType
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Header, Label, Static

from curator.core.models import Review
from curator.core.text import shown, text
from curator.decision.history import ApprovedModel, approved_models
from curator.review.session import Session


def _cell(value: Any) -> str:
    if value is None:
        return "—"
    text = str(value)
    return text[:19] + "…" if text.startswith("sha256:") else text


class _PlainTable(Table):
    """A Rich table whose string cells are data (two reviews' files and cards), never markup."""

    def add_row(self, *renderables: RenderableType | None, **kwargs: Any) -> None:
        super().add_row(*(text(r) if isinstance(r, str) else r for r in renderables), **kwargs)


def _table(*columns: str) -> Table:
    table = _PlainTable(box=box.SIMPLE_HEAD, expand=True, pad_edge=False, show_edge=False)
    for column in columns:
        table.add_column(column, overflow="fold")
    return table


def files_table(files: dict[str, Any]) -> RenderableType:
    """Added, removed and changed files with sizes and digests."""
    if not (files["added"] or files["removed"] or files["changed"]):
        return Text(f"no file changed ({files['unchanged']} the same)", style="dim")
    table = _table("", "path", "before", "after")
    for f in files["added"]:
        table.add_row(Text("+", style="green"), f["path"], "—", f"{f['size']} B {f['sha256'][:12]}")
    for f in files["removed"]:
        table.add_row(Text("-", style="red"), f["path"], f"{f['size']} B {f['sha256'][:12]}", "—")
    for f in files["changed"]:
        table.add_row(Text("~", style="yellow"), f["path"], f"{f['a']['size']} B {f['a']['sha256'][:12]}",
                      f"{f['b']['size']} B {f['b']['sha256'][:12]}")
    table.caption = f"{files['unchanged']} file(s) unchanged"
    return table


def changes_table(doc: dict[str, Any]) -> RenderableType:
    """Card, scan and signature changes as (what, before, after) rows."""
    table = _table("what", "before", "after")
    card, scan, sig = doc["card"], doc["scan"], doc["signature"]
    lic = card["license"]
    if lic:
        table.add_row(Text("license", style="bold red"), f"{lic['a']} ({lic['a_verdict']})",
                      f"{lic['b']} ({lic['b_verdict']})")
    if sig["changed"]:
        table.add_row(Text("signer", style="bold red"), _cell(sig["signer"]["a"] or sig["status"]["a"]),
                      _cell(sig["signer"]["b"] or sig["status"]["b"]))
    for row in card["fields"]:
        table.add_row(f"card {row['field']}", _cell(row["a"]), _cell(row["b"]))
    if card["base_models"]:
        table.add_row("base models", ", ".join(card["base_models"]["a"]) or "—",
                      ", ".join(card["base_models"]["b"]) or "—")
    for row in card["claims"]:
        table.add_row(f"claim {row['claim']}", _cell(row["a"]), _cell(row["b"]))
    if scan["status"]["a"] != scan["status"]["b"]:
        table.add_row("scan", _cell(scan["status"]["a"]), _cell(scan["status"]["b"]))
    for row in scan["verdicts"]:
        table.add_row(f"scan {row['path']}", _cell(row["a"]), _cell(row["b"]))
    for row in scan["scanners"]:
        table.add_row(f"scanner {row['scanner']}", _cell(row["a"]), _cell(row["b"]))
    if scan["custom_code"]:
        table.add_row("custom code", ", ".join(scan["custom_code"]["a"]) or "none",
                      ", ".join(scan["custom_code"]["b"]) or "none")
    return table if table.row_count else Text("no card, scan or signer change", style="dim")


def eval_table(rows: list[dict[str, Any]]) -> RenderableType:
    """Scores before and after, with their stderr and the difference."""
    if not rows:
        return Text("no eval scores on either side", style="dim")
    table = _table("task", "metric", "before ± stderr", "after ± stderr", "Δ")
    for row in rows:
        delta = row["delta"]
        shown = Text(f"{delta:+.4f}", style="red" if delta < 0 else "green") if delta is not None else "—"
        table.add_row(row["task"], row["metric"], f"{_cell(row['a'])} ± {_cell(row['a_stderr'])}",
                      f"{_cell(row['b'])} ± {_cell(row['b_stderr'])}", shown)
    return table


class DiffScreen(Screen[None]):
    """Read-only: what changed between two revisions. Escape goes back."""

    CSS_PATH = "diff.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "back", "Back")]

    def __init__(self, doc: dict[str, Any]) -> None:
        super().__init__()
        self.doc = doc

    def compose(self) -> ComposeResult:
        doc = self.doc
        yield Header()
        with VerticalScroll(id="diff-body"):
            a, b = doc["a"], doc["b"]
            revisions = f"{a['repo_id']} {_cell(a['revision'])} → {b['repo_id']} {_cell(b['revision'])}"
            yield Static(Text.assemble((shown(a["label"]), "bold"), "  →  ", (shown(b["label"]), "bold"),
                                       "\n" + shown(revisions)), id="diff-head")
            highlights = "\n".join(f"! {shown(h['message'])}" for h in doc["highlights"])
            yield Static(Text(highlights) if highlights
                         else Text("no signer, license, custom-code or scan change", style="dim"),
                         id="diff-highlights")
            yield Label("Files", classes="section")
            yield Static(files_table(doc["files"]), id="diff-files")
            yield Label("Card, scan, signature", classes="section")
            yield Static(changes_table(doc), id="diff-changes")
            yield Label("Eval", classes="section")
            yield Static(eval_table(doc["eval"]), id="diff-eval")
            if doc["notes"]:
                yield Static(Text("\n".join(map(shown, doc["notes"])), style="dim"), id="diff-notes")
        yield Footer()

    def action_back(self) -> None:
        self.app.pop_screen()


def inventory_twin(session: Session, review: Review | None) -> ApprovedModel | None:
    """The latest approved model of the review's repo id other than the review itself."""
    if review is None:
        return None
    older = [m for m in approved_models(session.ledger)
             if m.repo_id == review.candidate.repo_id and m.review_id != review.id]
    return older[-1] if older else None


def read_diff(session: Session, before: str, after: str) -> dict[str, Any]:
    """The diff document of two reviews (``before`` the inventory model): ledger reads, so a worker's."""
    from curator.changes.diff import diff, review_side

    return diff(review_side(session.ledger, before), review_side(session.ledger, after))
