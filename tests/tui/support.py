"""Helpers for driving the app in tests: wait for a condition while the app keeps running."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from textual import events
from textual.pilot import Pilot
from textual.screen import Screen
from textual.widgets import DataTable

from curator.tui.screens.decision import DecisionScreen
from curator.tui.screens.queue import QueueScreen
from curator.tui.screens.review import ReviewScreen
from curator.tui.widgets.evidence.fetch import FilesTable


async def wait_until(pilot: Pilot[Any], condition: Callable[[], object], timeout: float = 120.0,
                     what: str = "the condition") -> None:
    """Let the app run until ``condition()`` is true; fail the test after ``timeout`` seconds.

    The timeout is generous on purpose: a worker's ledger read, a pin or a scan can take many
    seconds on a loaded CI machine, and waiting costs nothing when the condition comes early.
    """
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        await pilot.pause(0.05)


async def wait_queue(pilot: Pilot[Any]) -> QueueScreen:
    """Wait until the queue is the screen and shows rows read from the ledger (a worker reads them)."""
    await wait_until(pilot, lambda: isinstance(pilot.app.screen, QueueScreen) and pilot.app.screen.reads > 0,
                     what="the queue's rows")
    screen = pilot.app.screen
    assert isinstance(screen, QueueScreen)
    return screen


async def wait_decision(pilot: Pilot[Any]) -> DecisionScreen:
    """Wait for the decision screen a worker pushes (after reading the ledger), composed."""
    await wait_until(pilot, lambda: isinstance(pilot.app.screen, DecisionScreen)
                     and bool(pilot.app.screen.query("#approve")), what="the decision screen")
    screen = pilot.app.screen
    assert isinstance(screen, DecisionScreen)
    return screen


def review_screen(pilot: Pilot[Any]) -> ReviewScreen:
    screen = pilot.app.screen
    assert isinstance(screen, ReviewScreen), f"expected the review screen, got {screen!r}"
    return screen


async def wait_opened(pilot: Pilot[Any]) -> ReviewScreen:
    """Wait until the review screen has opened the review and shows its stored results.

    ``review`` is set before the results are read (a review from the queue has it at once):
    ``reads`` counts the reads that reached the screen, its evidence panel included.
    """
    await wait_until(pilot, lambda: isinstance(pilot.app.screen, ReviewScreen)
                     and pilot.app.screen.review is not None and pilot.app.screen.reads > 0,
                     what="the review to open")
    return review_screen(pilot)


async def run_and_wait(pilot: Pilot[Any], key: str, timeout: float = 300.0) -> ReviewScreen:
    """Press ``key`` (r or f) on an open review and wait for the run to end."""
    screen = await wait_opened(pilot)
    before = screen.runs_ended
    await pilot.press(key)
    await wait_until(pilot, lambda: screen.runs_ended > before, timeout=timeout, what="the run to end")
    await pilot.pause()
    return screen


async def press_until(pilot: Pilot[Any], key: str, condition: Callable[[], object], what: str,
                      timeout: float = 120.0) -> None:
    """Press ``key`` and wait for its effect.

    ``Pilot.press`` returns once the keys are queued and the CPU looks idle, but a key bound on a
    screen travels from the focused widget up to the app before its action runs: under load
    that can come later. The next key must not be sent before then (Enter, bound with priority,
    would overtake a cursor move still on its way).
    """
    await pilot.press(key)
    await wait_until(pilot, condition, timeout=timeout, what=what)


def laid_out(screen: Screen[Any]) -> bool:
    """Every table on ``screen`` has measured its rows and sized its columns to them.

    A DataTable does that when it is next idle after ``add_row``, not in ``add_row``: until then
    it draws every column as wide as its label. Textual has no public signal for it; its own
    pending flags are read here (textual is pinned by the lock).
    """
    return all(not table._require_update_dimensions and not table._new_rows and not table._updated_cells
               for table in screen.query(DataTable))


def files_table(pilot: Pilot[Any]) -> FilesTable:
    return pilot.app.screen.query_one(FilesTable)


def send_key(pilot: Pilot[Any], key: str) -> None:
    """Deliver a key press as the terminal would, without Pilot's wait for an idle process.

    ``Pilot.press`` waits (up to 2 s) for the CPU to go quiet, which never happens while a
    download runs in a thread: tests of running work press keys with this instead.
    """
    pilot.app.post_message(events.Key(key, key if len(key) == 1 else None))
