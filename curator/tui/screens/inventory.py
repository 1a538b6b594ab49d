"""The inventory screen: every adopted model, sortable and filterable by each column."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header, Input, Static

from curator.core.errors import CuratorError
from curator.core.text import shown, text
from curator.inventory.build import COLUMNS, Inventory, InventoryEntry, filter_entries, sort_entries
from curator.review.session import Session
from curator.tui.screens.error import WorkerErrors

STATUS_STYLE = {"approved": "green", "needs-re-review": "yellow", "retired": "dim"}


@dataclass
class InventoryLoaded(Message):
    inventory: Inventory


def entry_details(entry: InventoryEntry) -> Text:
    """The panel under the table: decision, waivers, scanners, lineage, last check and why."""
    d = entry.decision
    text = Text.assemble((shown(entry.ref), "bold"), "  ",
                         (shown(entry.status), STATUS_STYLE.get(entry.status, "")), "\n")

    def line(value: str, style: str = "") -> None:  # one shown line each: a value cannot forge another
        text.append(shown(value) + "\n", style=style)

    line(f"{entry.repo_id} @ {entry.revision}  ({entry.files} files, {entry.size / 1e6:.1f} MB)")
    line(f"approved by {entry.curator} on {entry.approved_at} (decision {d.get('decision_id')}): "
         f"{d.get('rationale', '')}")
    for w in entry.waivers:
        line(f"waiver {w.get('stage')} until {w.get('expires')}: {w.get('reason')}", "yellow")
    line(f"scanners {entry.cell('scanners')} · license {entry.cell('license')} · "
         f"lineage {entry.cell('lineage')}")
    line(f"production: {entry.cell('production')} · replaced by {entry.cell('replaced_by')} · "
         f"signature {entry.cell('signature')} · registry {entry.registry}")
    for condition in entry.conditions:
        line(f"condition: {condition}")
    check = entry.last_check
    line(f"last check: {check['time']} {check['outcome']}" if check else "last check: never")
    for reason in entry.reasons:
        line(f"needs re-review: {reason}", "yellow")
    if entry.last_action:
        a = entry.last_action
        who = (a.get("curator") or {}).get("name")
        line(f"quarterly {a.get('action')} by {who} on {a.get('time')}: {a.get('rationale')}")
    return text


class InventoryScreen(WorkerErrors, Screen[None]):
    """All models in the registry; header click or ``s`` sorts, ``/`` filters (COLUMN=TEXT or TEXT)."""

    CSS_PATH = "inventory.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("s", "next_sort", "Sort"),
        Binding("r", "reverse", "Reverse"),
        Binding("slash", "filter", "Filter"),
        Binding("escape", "back", "Back"),
        Binding("f5", "reload", "Reload"),
    ]

    def __init__(self, session: Session, registry_url: list[str] | str | None = None) -> None:
        super().__init__()
        self.session = session
        self.registry_url = registry_url
        self.inventory: Inventory | None = None
        self.sort_column = "ref"
        self.descending = False
        self.filter_spec = ""
        self.shown: list[InventoryEntry] = []

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("Inventory · loading…", id="inventory-intro")
        yield Input(placeholder="filter: TEXT or COLUMN=TEXT (Enter applies, empty clears)",
                    id="inventory-filter")
        yield DataTable(id="inventory", cursor_type="row", zebra_stripes=True)
        yield Static("", id="inventory-detail")
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        for column in COLUMNS:
            table.add_column(column, key=column)
        table.focus()
        self.load()

    @work(thread=True, exclusive=True, exit_on_error=False, group="inventory")
    def load(self) -> None:
        """Read ledger and registry off the UI thread."""
        from curator.inventory.build import build_inventory, merge_inventories
        from curator.registry import open_registries

        urls = [self.registry_url] if isinstance(self.registry_url, str) else self.registry_url
        registries = open_registries(self.session.workspace.registry_dir, self.session.policy, urls)
        self.post_message(InventoryLoaded(merge_inventories([build_inventory(self.session, r)
                                                             for r in registries])))

    def on_inventory_loaded(self, message: InventoryLoaded) -> None:
        self.inventory = message.inventory
        self.refill()

    def refill(self) -> None:
        """Apply the filter and sort to the table, keeping the cursor where it can."""
        if self.inventory is None:
            return
        entries = list(self.inventory.entries)
        if self.filter_spec:
            try:
                entries = filter_entries(entries, self.filter_spec)
            except CuratorError as exc:
                self.notify(shown(exc.diagnostics()), severity="error", markup=False)
        self.shown = sort_entries(entries, self.sort_column, self.descending)
        table = self.query_one(DataTable)
        keep = table.cursor_row
        table.clear()
        for e in self.shown:
            style = STATUS_STYLE.get(e.status, "")
            table.add_row(*[text(e.cell(c), style if c == "status" else "") for c in COLUMNS],
                          key=e.ref)
        if self.shown:
            table.move_cursor(row=min(keep, len(self.shown) - 1))
        counts = self.inventory.counts()
        arrow = "↓" if self.descending else "↑"
        total = len(self.inventory.entries)
        head = (f"Inventory of {self.inventory.registry} · {len(self.shown)} of {total} shown · "
                + ", ".join(f"{v} {k}" for k, v in counts.items())
                + f" · sorted by {self.sort_column} {arrow}"
                + (f" · filter '{self.filter_spec}'" if self.filter_spec else ""))
        self.query_one("#inventory-intro", Static).update(Text.assemble(
            shown(head), "\ns: sort · r: reverse · /: filter · click a header to sort by it · Esc: back"))
        self.show_detail()

    def show_detail(self) -> None:
        table = self.query_one(DataTable)
        detail = self.query_one("#inventory-detail", Static)
        if not self.shown:
            detail.update("no model matches" if self.filter_spec else "no model has been adopted yet")
            return
        detail.update(entry_details(self.shown[min(table.cursor_row, len(self.shown) - 1)]))

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        self.show_detail()

    def on_data_table_header_selected(self, event: DataTable.HeaderSelected) -> None:
        column = str(event.column_key.value)
        self.descending = not self.descending if column == self.sort_column else False
        self.sort_column = column
        self.refill()

    def action_next_sort(self) -> None:
        self.sort_column = COLUMNS[(COLUMNS.index(self.sort_column) + 1) % len(COLUMNS)]
        self.refill()

    def action_reverse(self) -> None:
        self.descending = not self.descending
        self.refill()

    def action_filter(self) -> None:
        self.add_class("filtering")
        self.query_one("#inventory-filter", Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id == "inventory-filter":
            self.filter_spec = event.value.strip()
            self.remove_class("filtering")
            self.query_one(DataTable).focus()
            self.refill()

    def action_reload(self) -> None:
        self.load()

    def action_back(self) -> None:
        if self.has_class("filtering"):
            self.remove_class("filtering")
            self.query_one(DataTable).focus()
        elif len(self.app.screen_stack) > 1:
            self.app.pop_screen()
        else:
            self.app.exit()

    ERROR_TITLES: ClassVar[dict[str, str]] = {"inventory": "Cannot read the inventory"}

