"""The queue opens the security lead's screens: inventory (i) and the quarterly review (Q)."""

from __future__ import annotations

from pathlib import Path

from curator.core.workspace import Workspace
from curator.tui.app import make_app
from curator.tui.screens.inventory import InventoryScreen
from curator.tui.screens.quarterly import QuarterlyScreen
from curator.tui.screens.queue import QueueScreen
from tests.tui.support import wait_until


async def test_i_opens_inventory_and_shift_q_the_quarterly_review(tmp_path: Path) -> None:
    app = make_app(Workspace.open(tmp_path / "home"), queue=[])
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        assert isinstance(app.screen, QueueScreen)
        await pilot.press("i")
        await wait_until(pilot, lambda: isinstance(app.screen, InventoryScreen), what="the inventory")
        await pilot.press("escape")
        await wait_until(pilot, lambda: isinstance(app.screen, QueueScreen), what="the queue again")
        await pilot.press("Q")
        await wait_until(pilot, lambda: isinstance(app.screen, QuarterlyScreen), what="the quarterly review")
        quarterly = app.screen
        assert isinstance(quarterly, QuarterlyScreen)
        await wait_until(pilot, quarterly.idle.is_set, what="the quarterly run to end")
        assert app.background_jobs == [(quarterly.cancel, quarterly.idle)]
