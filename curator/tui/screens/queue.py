"""The queue screen: candidates waiting for review and the reviews already in the ledger."""

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
from textual.widgets import DataTable, Footer, Header, Static
from textual.worker import Worker, get_current_worker

from curator.review.session import Session
from curator.tui.items import Preparation, QueueItem
from curator.tui.messages import OpenReview, OpenScreen
from curator.tui.screens.error import WorkerErrors
from curator.tui.screens.queue_rows import UNPUSHED, QueueRow, queue_rows


@dataclass
class PreparationProgress(Message):
    """A line saying what the background preparation is doing; newer replaces older."""

    line: str

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, PreparationProgress)


@dataclass
class SampleReady(Message):
    """A queued candidate's sample is built and can be opened."""

    name: str


@dataclass
class RowsRead(Message):
    """The queue's rows as the ledger says now, read off the UI thread."""

    rows: list[QueueRow]


class _Poster:
    """Turns the preparation's reports into messages for the screen (thread-safe)."""

    def __init__(self, screen: QueueScreen) -> None:
        self.screen = screen

    def progress(self, line: str) -> None:
        self.screen.post_message(PreparationProgress(line))

    def ready(self, repo_id: str) -> None:
        self.screen.post_message(SampleReady(repo_id))

COLUMNS = ("candidate", "revision", "source", "state", "stages", "notes")


class QueueScreen(WorkerErrors, Screen[None]):
    """A table of candidates; Enter opens the highlighted one's review."""

    CSS_PATH = "queue.tcss"  # as the app's first screen, the app loads it (see screen_css)
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "open", "Open review", priority=True),
        Binding("j", "down", "Down", show=False),
        Binding("k", "up", "Up", show=False),
        Binding("r", "refresh", "Refresh"),
        Binding("i", "inventory", "Inventory"),
        Binding("Q", "quarterly", "Quarterly review"),
    ]

    def __init__(self, session: Session, queue: list[QueueItem],
                 preparation: Preparation | None = None) -> None:
        super().__init__()
        self.session = session
        self.queue = queue
        self.rows: dict[str, QueueRow] = {}
        #: how many ledger reads reached the table (tests and scripts wait on it)
        self.reads = 0
        #: Enter came before the first read: the highlighted row opens once it is there
        self.open_when_read = False
        self.preparation = preparation
        #: what the queue still waits for (the demo's samples being built)
        self.preparing = {i.waits_for for i in queue if i.waits_for} if preparation else set()
        self.cancel = threading.Event()
        self.idle = threading.Event()
        self.idle.set()

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(self.intro(), id="queue-intro")
        yield Static("", id="queue-progress")
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
        self.query_one("#queue-progress", Static).display = self.preparation is not None
        if self.preparation is not None and self.preparing:
            self.app.background_jobs.append((self.cancel, self.idle))  # type: ignore[attr-defined]
            self.idle.clear()
            self.prepare()

    @work(thread=True, exclusive=True, exit_on_error=False, group="prepare")
    def prepare(self) -> None:
        """Build what the queue waits for, off the UI thread; rows turn ready one by one."""
        assert self.preparation is not None
        try:
            self.preparation(_Poster(self), self.cancel)
        finally:
            self.idle.set()

    def on_preparation_progress(self, message: PreparationProgress) -> None:
        self.query_one("#queue-progress", Static).update(Text(message.line, style="italic"))

    def on_sample_ready(self, message: SampleReady) -> None:
        self.preparing.discard(message.name)
        self.action_refresh()

    async def worker_failed(self, worker: Worker[object], message: str) -> str | None:
        if worker.group == "prepare":  # the queue stays usable: say it on the progress line
            line = Text(f"preparation failed: {message}", style="red")
            self.query_one("#queue-progress", Static).update(line)
            return None
        return "Cannot read the queue"

    def on_screen_resume(self) -> None:
        self.action_refresh()

    def action_inventory(self) -> None:
        self.post_message(OpenScreen("inventory"))

    def action_quarterly(self) -> None:
        self.post_message(OpenScreen("quarterly"))

    def action_refresh(self) -> None:
        """Re-read the ledger (states change as reviews run), off the UI thread."""
        self.read_rows(frozenset(self.preparing))

    @work(thread=True, exclusive=True, exit_on_error=False, group="queue")
    def read_rows(self, preparing: frozenset[str]) -> None:
        rows = queue_rows(self.session, self.queue, preparing)
        if not get_current_worker().is_cancelled:  # a newer read is on its way
            self.post_message(RowsRead(rows))

    def on_rows_read(self, message: RowsRead) -> None:
        table = self.query_one(DataTable)
        keep = table.cursor_row
        table.clear()
        self.rows = {row.key: row for row in message.rows}
        for row in self.rows.values():
            table.add_row(*row.cells, key=row.key)
        if self.rows:
            table.move_cursor(row=min(keep, len(self.rows) - 1))
        self.reads += 1
        if self.open_when_read:
            self.open_when_read = False
            self.action_open()

    def action_down(self) -> None:
        self.query_one(DataTable).action_cursor_down()

    def action_up(self) -> None:
        self.query_one(DataTable).action_cursor_up()

    def action_open(self) -> None:
        table = self.query_one(DataTable)
        if not self.reads:
            self.open_when_read = True
            return
        if not self.rows:
            self.notify("The queue is empty: run 'curator review ORG/NAME' or 'curator demo'.")
            return
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        self.open_row(self.rows[str(key)])

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.open_row(self.rows[str(event.row_key.value)])

    def open_row(self, row: QueueRow) -> None:
        if row.waiting:
            self.notify(f"{row.candidate.repo_id} is still being prepared; it opens once it is ready.",
                        title="preparing…")
            return
        # a queued candidate is (re)pinned on open, unless its approval still waits for its push;
        # a ledger review opens as it is
        if row.key.startswith("queue:") and not row.state.plain.startswith(UNPUSHED):
            self.post_message(OpenReview(candidate=row.candidate))
        else:
            self.post_message(OpenReview(review=row.review))
