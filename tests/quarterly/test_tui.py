"""The quarterly and inventory screens driven with Pilot: the checks run in a worker, the lead
retires a model with a typed rationale, and `curator verify` refuses it afterwards."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable

from textual.app import App
from textual.pilot import Pilot
from textual.screen import Screen
from textual.widgets import DataTable, Input, TextArea

from curator.review.session import Session
from curator.tui.screens.inventory import InventoryScreen
from curator.tui.screens.quarterly import QuarterlyScreen
from curator.tui.screens.quarterly_action import ActionScreen
from tests.decision.helpers import cli
from tests.export.conftest import Adoptions
from tests.export.helpers import blob_path, tamper


class Host(App[None]):
    def __init__(self, make: Callable[[], Screen[None]]) -> None:
        super().__init__()
        self.make = make

    def on_mount(self) -> None:
        self.push_screen(self.make())


async def _wait(pilot: Pilot[None], condition: Callable[[], object], what: str, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await pilot.pause(0.05)


def _rows(screen: Screen[None]) -> list[list[str]]:
    table = screen.query_one(DataTable)
    return [[str(cell) for cell in table.get_row_at(i)] for i in range(table.row_count)]


async def test_lead_retires_a_failed_model_with_a_signed_rationale(adopted: Adoptions) -> None:
    session: Session = adopted.session
    weights = (adopted.second.folder / "model.safetensors").read_bytes()
    tamper(blob_path(session, hashlib.sha256(weights).hexdigest()))
    app = Host(lambda: QuarterlyScreen(session, upstream=False))
    async with app.run_test(size=(160, 50)) as pilot:
        await _wait(pilot, lambda: isinstance(app.screen, QuarterlyScreen) and app.screen.run is not None,
                    "the quarterly run")
        screen = app.screen
        assert isinstance(screen, QuarterlyScreen)
        rows = {r[0]: r for r in _rows(screen)}
        assert rows[adopted.first.ref][1] == "ok" and rows[adopted.second.ref][1] == "fail"
        assert rows[adopted.second.ref][2] == "fail"  # the verify column
        screen.query_one(DataTable).move_cursor(row=list(rows).index(adopted.second.ref))
        detail = screen.query_one("#quarterly-detail")
        # the table's highlight message moves the detail to the second model
        await _wait(pilot, lambda: str(detail.render()).startswith(adopted.second.ref),
                    "the second model's detail")
        assert "tampered-blob" in str(detail.render())
        await pilot.press("x")
        await _wait(pilot, lambda: isinstance(app.screen, ActionScreen), "the retire dialog")
        await pilot.click("#action-sign")  # empty rationale: refused, nothing signed
        assert isinstance(app.screen, ActionScreen)
        await pilot.click("#action-rationale")
        await pilot.press(*"bytes", "space", *"altered", "space", *"in", "space", *"registry")
        rationale = app.screen.query_one(TextArea)
        await _wait(pilot, lambda: rationale.text == "bytes altered in registry", "the typed rationale")
        await pilot.click("#action-sign")
        await _wait(pilot, lambda: session.ledger.events(adopted.second.review_id, kind="quarterly_action"),
                    "the signed retirement")
        await _wait(pilot, lambda: {r[0]: r for r in _rows(screen)}[adopted.second.ref][1] == "retired",
                    "the retired row")
    action = session.ledger.events(adopted.second.review_id, kind="quarterly_action")[-1]["payload"]
    assert action["action"] == "retire" and action["rationale"] == "bytes altered in registry"
    assert cli("verify", adopted.second.ref).returncode == 1
    assert cli("verify", adopted.first.ref).returncode == 0


async def test_inventory_screen_sorts_and_filters(adopted: Adoptions) -> None:
    session: Session = adopted.session
    app = Host(lambda: InventoryScreen(session))
    async with app.run_test(size=(200, 40)) as pilot:
        await _wait(pilot, lambda: isinstance(app.screen, InventoryScreen)
                    and app.screen.inventory is not None, "the inventory")
        screen = app.screen
        assert isinstance(screen, InventoryScreen)
        refs = sorted([adopted.first.ref, adopted.second.ref])
        assert [r[0] for r in _rows(screen)] == refs
        # a key bound on the screen acts once it has come up from the focused table: wait for each
        await pilot.press("r")
        await _wait(pilot, lambda: [r[0] for r in _rows(screen)] == refs[::-1], "the reversed rows")
        await pilot.press("s")
        await _wait(pilot, lambda: screen.sort_column == "repo_id", "the next sort column")
        await pilot.press("slash")
        await _wait(pilot, lambda: screen.query_one(Input).has_focus, "the filter's focus")
        await pilot.press(*"lineage=tiny-one", "enter")
        await _wait(pilot, lambda: [r[0] for r in _rows(screen)] == [adopted.second.ref], "the filtered rows")
        assert "waiver eval until" in str(screen.query_one("#inventory-detail").render())
        await pilot.press("slash")  # an empty filter shows everything again
        await _wait(pilot, lambda: screen.query_one(Input).has_focus, "the filter's focus again")
        await pilot.press("ctrl+u", "enter")
        await _wait(pilot, lambda: len(_rows(screen)) == 2, "every row again")
