"""The one app opens the security lead's screens: from the queue (i: inventory, Q: quarterly review),
or straight on them (``curator inventory --tui``, ``curator quarterly``)."""

from __future__ import annotations

from pathlib import Path

import pytest

from curator.core.errors import UsageError
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
        # idle is set before the run starts too: the run's result says it ended
        await wait_until(pilot, lambda: quarterly.run is not None and quarterly.idle.is_set(),
                         what="the quarterly run to end")
        assert app.background_jobs == [(quarterly.cancel, quarterly.idle)]


async def test_the_one_app_opens_on_the_quarterly_review_and_escape_quits(tmp_path: Path) -> None:
    app = make_app(Workspace.open(tmp_path / "home"), start="quarterly", upstream=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_until(pilot, lambda: isinstance(app.screen, QuarterlyScreen), what="the quarterly review")
        quarterly = app.screen
        assert isinstance(quarterly, QuarterlyScreen) and app.title == "curator quarterly"
        assert not quarterly.upstream
        await wait_until(pilot, lambda: quarterly.run is not None, what="the quarterly run")
        assert app.background_jobs == [(quarterly.cancel, quarterly.idle)]
        # its own stylesheet applies although Textual loads none for an app's first screen
        assert quarterly.query_one("#quarterly-detail").styles.max_height is not None
        await pilot.press("escape")
        await wait_until(pilot, lambda: not app.is_running, what="the app to exit")


async def test_the_one_app_opens_on_the_inventory(tmp_path: Path) -> None:
    app = make_app(Workspace.open(tmp_path / "home"), start="inventory", registry=["workspace"])
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_until(pilot, lambda: isinstance(app.screen, InventoryScreen)
                         and app.screen.inventory is not None, what="the inventory")
        inventory = app.screen
        assert isinstance(inventory, InventoryScreen) and app.title == "curator inventory"
        assert inventory.registry_url == ["workspace"]
        assert inventory.query_one("#inventory-filter").styles.display == "none"
        await pilot.press("escape")
        await wait_until(pilot, lambda: not app.is_running, what="the app to exit")


def test_the_quarterly_review_takes_one_registry(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="one registry at a time"):
        make_app(Workspace.open(tmp_path / "home"), start="quarterly", registry=["workspace", "oci:/x"])
