"""The queue screen: candidates waiting for review and the reviews already in the ledger."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header, Static

from curator.review.session import Session
from curator.tui.items import QueueItem
from curator.tui.messages import OpenReview
from curator.tui.screens.queue_rows import QueueRow, queue_rows

COLUMNS = ("candidate", "revision", "source", "state", "stages", "notes")


class QueueScreen(Screen[None]):
    """A table of candidates; Enter opens the highlighted one's review."""

    CSS_PATH = "queue.tcss"  # as the app's default screen, the app loads it (see CuratorApp)
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "open", "Open review", priority=True),
        Binding("j", "down", "Down", show=False),
        Binding("k", "up", "Up", show=False),
        Binding("r", "refresh", "Refresh"),
        Binding("i", "inventory", "Inventory"),
        Binding("Q", "quarterly", "Quarterly review"),
    ]

    def __init__(self, session: Session, queue: list[QueueItem]) -> None:
        super().__init__()
        self.session = session
        self.queue = queue
        self.rows: dict[str, QueueRow] = {}

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(self.intro(), id="queue-intro")
        yield DataTable(id="queue", cursor_type="row", zebra_stripes=True)
        yield Footer()

    def intro(self) -> str:
        stages = " → ".join(self.session.policy.stages)
        return (f"Review queue · policy {self.session.policy.version} · stages: {stages}\n"
                "Enter opens a review; j/k or arrows move; r refreshes; q quits.")

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        for column in COLUMNS:
            table.add_column(column, key=column)
        self.action_refresh()
        table.focus()

    def on_screen_resume(self) -> None:
        self.action_refresh()

    def action_inventory(self) -> None:
        from curator.tui.screens.inventory import InventoryScreen

        self.app.push_screen(InventoryScreen(self.session))

    def action_quarterly(self) -> None:
        from curator.tui.screens.quarterly import QuarterlyScreen

        screen = QuarterlyScreen(self.session)
        self.app.background_jobs.append((screen.cancel, screen.idle))  # type: ignore[attr-defined]
        self.app.push_screen(screen)

    def action_refresh(self) -> None:
        """Re-read the ledger: states change as reviews run."""
        table = self.query_one(DataTable)
        keep = table.cursor_row
        table.clear()
        self.rows = {row.key: row for row in queue_rows(self.session, self.queue)}
        for row in self.rows.values():
            table.add_row(*row.cells, key=row.key)
        if self.rows:
            table.move_cursor(row=min(keep, len(self.rows) - 1))

    def action_down(self) -> None:
        self.query_one(DataTable).action_cursor_down()

    def action_up(self) -> None:
        self.query_one(DataTable).action_cursor_up()

    def action_open(self) -> None:
        table = self.query_one(DataTable)
        if not self.rows:
            self.notify("The queue is empty: run 'curator review ORG/NAME' or 'curator demo'.")
            return
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        self.open_row(self.rows[str(key)])

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.open_row(self.rows[str(event.row_key.value)])

    def open_row(self, row: QueueRow) -> None:
        # a queued candidate is (re)pinned on open; a ledger review opens as it is
        if row.key.startswith("queue:"):
            self.post_message(OpenReview(candidate=row.candidate))
        else:
            self.post_message(OpenReview(review=row.review))
