"""The card panel: look-alike names first, the five provenance fields, license, lineage, claims,
and the card itself as written (``m``)."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from pathlib import Path
from typing import ClassVar

from rich import box
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.widgets import DataTable, Label, Static

from curator.core.evidence import CardEvidence, EvidenceError
from curator.core.evidence.card import (
    Base,
    CardClaim,
    CardField,
    CardFile,
    DeclaredLicense,
    Excerpt,
    License,
    Lineage,
    LookAlike,
)
from curator.core.text import shown, text
from curator.tui.format import human_bytes, short_digest
from curator.tui.widgets.evidence.base import EvidencePanel
from curator.tui.widgets.evidence.findings import FindingsTable

#: a provenance field's grade: verified by curator, only said by the card, or absent
GRADE: dict[str, tuple[str, str]] = {
    "verified": ("✔✔", "bold green"),
    "declared": ("✔", "yellow"),
    "missing": ("✘", "bold red"),
}
FIELD_ORDER = ("publisher_identity", "training_data", "training_pipeline", "eval_summary", "lineage")
LICENSE: dict[str, tuple[str, str]] = {
    "allowed": ("✔", "green"),
    "needs-legal": ("▲", "yellow"),
    "denied": ("✘", "bold red"),
    "missing": ("✘", "bold red"),
}
#: characters of a field's first excerpt in the table (the evidence area is ~80 cells wide)
EXCERPT = 36
#: the curator never needs more of a card on screen than the card stage read
MAX_CARD_BYTES = 1 << 20


def grade_text(status: str) -> Text:
    """``✔✔ verified`` / ``✔ declared`` / ``✘ missing``, coloured."""
    char, style = GRADE.get(status, ("?", "magenta"))
    return Text(f"{char} {status}", style=style)


def where(item: Excerpt | License | DeclaredLicense | Base, short: bool = False) -> str:
    """``Model details > License, line 41``: where in the card a fact was read (``short``: the
    last heading only)."""
    location = item.location
    if short:
        location = location.rpartition(" > ")[2]
    line = item.line
    return shown(f"{location}, line {line}" if line else location)


def markdown_of(card: str) -> str:
    """The card for the Markdown widget: YAML front matter shown as a code block, not prose."""
    if card.startswith("---\n"):
        end = card.find("\n---", 4)
        if end != -1:
            rest = card[end + 4:].split("\n", 1)
            return f"```yaml\n{card[4:end]}\n```\n\n{rest[1] if len(rest) > 1 else ''}"
    return card


class CardPanel(EvidencePanel):
    """Look-alike warnings, the five-row provenance table, license, lineage, claims, card file."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("m", "toggle_card", "Card as written")]

    def compose(self) -> ComposeResult:
        try:
            evidence = CardEvidence.of(self.result)
        except EvidenceError as exc:
            yield from self.unreadable(exc)
            return
        yield Static(self.headline(), classes="headline")
        for near in evidence.lookalike:
            kind = "name" if near.kind == "name" else "publisher"
            yield Static(self.lookalike(near), classes=f"lookalike {kind}")
        with Vertical(id="card-evidence"):
            if not evidence.fields:
                yield Static(Text("No card evidence was recorded: the stage did not get that far.",
                                  style="bold magenta"), classes="alarm")
            else:
                yield Static(Text("\n".join(map(shown, evidence.summary)), style="dim"))
                yield Label("Provenance", classes="section")
                yield FieldsTable(evidence.fields, id="fields")
                yield Static("", id="field-detail")
                yield Label("License", classes="section")
                yield Static(self.license(evidence.license), id="license")
                yield Label("Lineage", classes="section")
                yield Static(self.lineage(evidence.lineage), id="lineage")
                yield Label(f"Claims ({len(evidence.claims)})", classes="section")
                yield Static(self.claims(evidence.claims), id="claims")
                yield Label("Card file", classes="section")
                yield Static(self.card_file(evidence.card), id="card-file")
            if self.result.findings:
                yield Label("Findings", classes="section")
                yield FindingsTable(self.result.findings)
        yield Vertical(id="card-text")

    @staticmethod
    def lookalike(near: LookAlike) -> Text:
        what = "same name as" if near.kind == "name" else "looks like"
        return text(f"⚠ LOOK-ALIKE: {near.kind} '{near.name}' {what} {near.source} "
                    f"'{near.resembles}' ({near.why}) — make sure this is not an impostor "
                    "before going on")

    @staticmethod
    def license(lic: License) -> Text:
        verdict = lic.verdict
        char, style = LICENSE.get(verdict, ("?", "magenta"))
        line = Text.assemble((shown(lic.id or lic.name or "no license"), "bold"), "  ",
                             (f"{char} {verdict}", style))
        if lic.location:
            line.append(f"  ({where(lic)})", style="dim")
        if lic.link:
            line.append(f"\nlink: {shown(lic.link)}", style="dim")
        for other in lic.declared[1:]:
            line.append(f"\nalso: {shown(other.text or other.id)} at {where(other)} → "
                        f"{shown(other.verdict)}", style="dim")
        return line

    @staticmethod
    def lineage(lineage: Lineage) -> Text:
        bases = lineage.bases
        if not bases:
            return Text("no base model named: the card does not say where this model comes from", style="dim")
        relation = lineage.relation or lineage.inferred_relation or "derived"
        lines = []
        for base in bases:
            line = Text()
            line.append("this model ◀── ", style="bold").append(f"{shown(relation)} of", style="italic")
            line.append(" ── ").append(shown(base.repo_id), style="bold")
            if base.approved:
                line.append(f"  ✔ approved (review {shown(base.approved_by)})", style="green")
            else:
                line.append("  ✘ not approved in curator", style="red")
            line.append(f"  ({where(base)})", style="dim")
            lines.append(line)
        return Text("\n").join(lines)

    @staticmethod
    def claims(claims: tuple[CardClaim, ...]) -> Table | Text:
        if not claims:
            return Text("the card claims no scores (model-index)", style="dim")
        table = Table(box=box.SIMPLE_HEAD, pad_edge=False, show_edge=False, expand=True)
        for column in ("dataset", "split", "metric", "value", "n-shot", "verified", "line"):
            table.add_column(column, overflow="fold", no_wrap=column in ("value", "n-shot"))
        for claim in claims:
            shots = claim.n_shot
            verified = Text("hub token", style="green") if claim.verified else Text("no", style="dim")
            # a dataset name is the card author's text: "[bold green]✔ VERIFIED" must stay those characters
            table.add_row(text(claim.dataset_name or claim.dataset or "?"),
                          text(claim.split or ""),
                          text(claim.metric_name or claim.metric),
                          text(claim.value), text("" if shots is None else shots), verified,
                          text(claim.line or "", "dim"))
        return table

    @staticmethod
    def card_file(card: CardFile) -> Text:
        if not card.present:
            return text(f"no {card.path or 'README.md'} in the candidate", "bold red")
        line = Text.assemble((shown(card.path), "bold"), f"  {human_bytes(card.bytes)}",
                             f"  sha256 {short_digest(card.sha256 or '')}")
        if card.truncated:
            line.append("  truncated: graded on its first part only", style="yellow")
        if not card.metadata_readable:
            line.append("  front matter unreadable", style="yellow")
        line.append("\nm: read the card as written (Tab into this panel first)", style="dim italic")
        return line

    # -- the card as written ----------------------------------------------------------------
    async def action_toggle_card(self) -> None:
        """Show the card as rendered Markdown instead of the evidence, or back."""
        # the panel keeps the focus: hiding a focused table would hand it to the checklist, and m
        # would stop working
        self.focus()
        if self.has_class("reading"):
            self.remove_class("reading")
            return
        holder = self.query_one("#card-text", Vertical)
        if not holder.children:
            # markdown-it and the Markdown widget cost ~50 ms: only when a curator asks for the card
            from textual.widgets import Markdown

            card_text, note = self.read_card()
            if note:
                await holder.mount(Static(note, classes="alarm"))
            if card_text is not None:
                # escape sequences in the card are shown, never sent to the terminal
                await holder.mount(Markdown(markdown_of(shown(card_text, keep_newlines=True)),
                                            open_links=False))
        self.add_class("reading")
        self.scroll_home(animate=False)

    def read_card(self) -> tuple[str | None, Text | None]:
        """The card's text from the review's files folder, and a warning if it is not what was graded."""
        try:
            card = CardEvidence.of(self.result).card
        except EvidenceError as exc:
            return None, text(exc.diagnostics(), "bold magenta")
        name = card.path or ""
        folder = self.files_dir()
        if not card.present or not name:
            return None, Text("The candidate has no model card.", style="bold red")
        if folder is None:
            return None, Text("The card's folder is not known here: open this review from the queue.",
                              style="yellow")
        path = folder / name
        if not path.resolve().is_relative_to(folder.resolve()):  # a link out of the candidate
            return None, text(f"{name} points outside the candidate's folder: not shown.", "bold red")
        try:
            with path.open("rb") as handle:
                data = handle.read(MAX_CARD_BYTES)
        except OSError as exc:
            return None, text(f"cannot read {path} ({exc.strerror or exc}): run the fetch stage again",
                              "bold red")
        note = text(f"{name} as written — m goes back to the evidence", "dim italic")
        expected = card.sha256 or ""
        if expected and not card.truncated and hashlib.sha256(data).hexdigest() != expected:
            note = text(f"⚠ {path} is not the file the card stage graded (sha256 differs): "
                        "run the review again", "bold red")
        return data.decode("utf-8", errors="replace"), note

    def files_dir(self) -> Path | None:
        """The candidate's files, from the review the screen shows (duck-typed: no screen import)."""
        screen = self.screen
        session, review = getattr(screen, "session", None), getattr(screen, "review", None)
        if session is None or review is None:
            return None
        return Path(session.context(review).files_dir)

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        table = event.data_table
        if isinstance(table, FieldsTable) and event.row_key.value is not None:
            self.query_one("#field-detail", Static).update(table.detail(event.row_key.value))


class FieldsTable(DataTable[Text | str]):
    """The five provenance fields: grade, field, the best excerpt, and where it was read."""

    def __init__(self, fields: Mapping[str, CardField], *, id: str | None = None) -> None:
        super().__init__(id=id, cursor_type="row", zebra_stripes=True)
        self.fields = fields

    def on_mount(self) -> None:
        for column in ("grade", "field", "evidence (↑↓ for all)", "line"):
            self.add_column(column, key=column)
        for key in [*(k for k in FIELD_ORDER if k in self.fields), *(k for k in self.fields
                                                                     if k not in FIELD_ORDER)]:
            field = self.fields[key]
            status = field.status
            found = field.evidence
            placeholders = field.placeholders
            first = found[0] if found else placeholders[0] if placeholders else Excerpt()
            excerpt = first.excerpt or field.note or "not in the card"
            if not found and placeholders:
                excerpt = f"only placeholders: {excerpt}"
            line = f"line {first.line}" if first.line else ""
            self.add_row(grade_text(status), text(field.title or key, "bold"),
                         text(excerpt[:EXCERPT] + ("…" if len(excerpt) > EXCERPT else ""),
                              "" if found else "red"),
                         Text(line, style="dim"), key=key)

    def detail(self, key: str) -> Text:
        """Every excerpt of one field with its location, its placeholders, and curator's note."""
        field = self.fields.get(key) or CardField()
        out = Text.assemble((shown(field.title or key), "bold"), "  ")
        out.append_text(grade_text(field.status))
        if field.note:
            out.append(f" — {shown(field.note)}", style="italic")
        for item in field.evidence:
            out.append(f"\n• {where(item)}: ", style="bold")
            out.append(shown(item.excerpt))
        for item in field.placeholders:
            out.append(f"\n◦ placeholder at {where(item)}: ", style="yellow")
            out.append(shown(item.excerpt), style="yellow")
        return out
