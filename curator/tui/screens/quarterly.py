"""The quarterly review screen: run every check in a worker, read each model's results, and
record keep / replace / retire with a signed rationale (``ActionScreen``)."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import ClassVar

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header, ProgressBar, Static

from curator.core.text import shown, text
from curator.inventory.build import Inventory, InventoryEntry
from curator.quarterly.actions import ActionOutcome, ActionRequest
from curator.quarterly.run import CHECKS, ModelResult, QuarterlyRun
from curator.registry.interface import Registry
from curator.review.session import Session
from curator.tui.screens.error import WorkerErrors
from curator.tui.screens.quarterly_action import ActionScreen

OUTCOME_STYLE = {"ok": "green", "warn": "yellow", "fail": "bold red", "errored": "magenta", "skipped": "dim"}
COLUMNS = ("ref", "outcome", *CHECKS)


@dataclass
class ModelChecked(Message):
    n: int
    total: int
    result: ModelResult


@dataclass
class RunFinished(Message):
    run: QuarterlyRun
    inventory: Inventory


@dataclass
class ActionSigned(Message):
    outcome: ActionOutcome
    inventory: Inventory


def check_details(result: ModelResult) -> Text:
    text = Text.assemble((shown(result.entry.ref), "bold"), "  ",
                         (result.outcome, OUTCOME_STYLE[result.outcome]), "\n")
    for check in result.checks:
        text.append(f"{check.name:<11}", style="bold")
        text.append(f"{check.outcome:<8}", style=OUTCOME_STYLE.get(check.outcome, ""))
        text.append(f"{shown(check.message)}\n")
    return text


class QuarterlyScreen(WorkerErrors, Screen[None]):
    """Walk the inventory; ``k`` keep, ``p`` replace, ``x`` retire the highlighted model."""

    CSS_PATH = "quarterly.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("k", "act('keep')", "Keep"),
        Binding("p", "act('replace')", "Replace"),
        Binding("x", "act('retire')", "Retire"),
        Binding("g", "rerun", "Run again"),
        Binding("escape", "back", "Back"),
    ]

    def __init__(self, session: Session, registry_url: str | None = None, upstream: bool = True) -> None:
        super().__init__()
        self.session, self.registry_url, self.upstream = session, registry_url, upstream
        self.results: dict[str, ModelResult] = {}
        self.inventory: Inventory | None = None
        self.run: QuarterlyRun | None = None
        self.cancel = threading.Event()
        self.idle = threading.Event()
        self.idle.set()

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("Quarterly review · starting…", id="quarterly-intro")
        yield ProgressBar(id="quarterly-progress", show_eta=False)
        yield DataTable(id="quarterly", cursor_type="row", zebra_stripes=True)
        yield Static("", id="quarterly-detail")
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        for column in COLUMNS:
            table.add_column(column, key=column)
        table.focus()
        self.start_checks()

    def start_checks(self) -> None:
        # busy from now, not from when the thread starts: an exit in between waits for the run
        self.idle.clear()
        self.check_all()

    def _registry(self) -> Registry:
        from curator.registry import open_registry

        return open_registry(self.session.workspace.registry_dir, self.session.policy, self.registry_url)

    @work(thread=True, exclusive=True, exit_on_error=False, group="quarterly")
    def check_all(self) -> None:
        """Every check of every model, off the UI thread; each model reports as it finishes."""
        from curator.decision.rules import DecisionRules
        from curator.decision.signed_state import trusted_state
        from curator.inventory.build import build_inventory
        from curator.quarterly.run import run_quarterly
        from curator.state.client import TrustedState

        try:
            registry = self._registry()
            policy = self.session.policy

            def trusted() -> TrustedState:
                return trusted_state(registry, policy, self.session.workspace.home / "state")

            def report(n: int, total: int, result: ModelResult) -> None:
                self.post_message(ModelChecked(n, total, result))

            run = run_quarterly(self.session, registry, trusted, DecisionRules.from_policy(policy),
                                upstream=self.upstream, cancel=self.cancel, on_model=report)
            self.post_message(RunFinished(run, build_inventory(self.session, registry)))
        finally:
            self.idle.set()

    def on_model_checked(self, message: ModelChecked) -> None:
        self.results[message.result.entry.ref] = message.result
        self.query_one(ProgressBar).update(total=message.total, progress=message.n)
        self.refill()

    def on_run_finished(self, message: RunFinished) -> None:
        self.run, self.inventory = message.run, message.inventory
        self.refill()

    def refill(self) -> None:
        table = self.query_one(DataTable)
        keep = table.cursor_row
        table.clear()
        status = {e.ref: e.status for e in self.inventory.entries} if self.inventory else {}
        for ref, r in self.results.items():
            by_name = {c.name: c.outcome for c in r.checks}
            outcome = "retired" if status.get(ref) == "retired" else r.outcome
            cells = [Text(by_name.get(n, "-"), style=OUTCOME_STYLE.get(by_name.get(n, ""), ""))
                     for n in CHECKS]
            table.add_row(text(ref), Text(outcome, style=OUTCOME_STYLE.get(outcome, "dim")), *cells, key=ref)
        if self.results:
            table.move_cursor(row=min(keep, len(self.results) - 1))
        if self.run is None:
            head = f"Quarterly review · checking… {len(self.results)} model(s) done"
        else:
            c = self.run.counts()
            head = (f"Quarterly review {self.run.today} · run {self.run.run_id} · {c['models']} checked: "
                    f"{c['ok']} ok, {c['warn']} warn, {c['fail']} fail")
        self.query_one("#quarterly-intro", Static).update(Text.assemble(
            shown(head),
            "\nk: keep · p: replace · x: retire (signed, with a rationale) · g: run again · Esc: back"))
        self.show_detail()

    def selected(self) -> ModelResult | None:
        if not self.results:
            return None
        table = self.query_one(DataTable)
        return list(self.results.values())[min(table.cursor_row, len(self.results) - 1)]

    def show_detail(self) -> None:
        chosen = self.selected()
        self.query_one("#quarterly-detail", Static).update(check_details(chosen) if chosen else "")

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        self.show_detail()

    def action_act(self, action: str) -> None:
        chosen = self.selected()
        if chosen is None or self.inventory is None:
            self.notify("wait for the checks to finish", severity="warning")
            return
        entry = next((e for e in self.inventory.entries if e.ref == chosen.entry.ref), None)
        if entry is None:
            return

        def signed(request: ActionRequest | None) -> None:
            if request is not None:
                self.sign(entry, request)

        self.app.push_screen(ActionScreen(action, entry), signed)

    @work(thread=True, exclusive=True, exit_on_error=False, group="quarterly-action")
    def sign(self, entry: InventoryEntry, request: ActionRequest) -> None:
        """Load the key, sign, change the registry (retire) and record: off the UI thread."""
        from curator.attest.keys import FileSigner
        from curator.inventory.build import build_inventory
        from curator.quarterly.actions import record_action

        signer = FileSigner(self.session.workspace.keys_dir)
        registry = self._registry()
        outcome = record_action(self.session, entry, request, signer, registry)
        self.post_message(ActionSigned(outcome, build_inventory(self.session, registry)))

    def on_action_signed(self, message: ActionSigned) -> None:
        self.inventory = message.inventory
        o = message.outcome
        said = f"{o.action} {o.ref} signed (action {o.action_id})" + (f"; {o.note}" if o.note else "")
        self.notify(shown(said), markup=False)
        self.refill()

    def action_rerun(self) -> None:
        self.results, self.run = {}, None
        self.refill()
        self.start_checks()

    def action_back(self) -> None:
        self.cancel.set()
        if len(self.app.screen_stack) > 1:
            self.app.pop_screen()
        else:
            self.app.exit()

    ERROR_TITLES: ClassVar[dict[str, str]] = {"quarterly": "The quarterly review stopped",
                                               "quarterly-action": "The action was not recorded"}

