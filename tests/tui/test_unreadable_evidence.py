"""A stage result whose stored evidence is not of the stage's shape (edited, or written by a
broken version) is shown as one clear line in its panel, never a crash of the app."""

from __future__ import annotations

from typing import Any

import pytest
from textual.app import App, ComposeResult
from textual.widgets import Static

from curator.core.models import StageResult, Status
from curator.tui.screens.code import code_entries
from curator.tui.widgets.evidence import PANELS, panel_for
from tests.tui.test_panels import SIZE, text_of

#: per stage: evidence whose key holds the wrong type, and the path the message names
BROKEN: dict[str, tuple[dict[str, Any], str]] = {
    "fetch": ({"files": "model.safetensors"}, "evidence.files should be a list"),
    "scan": ({"files": [{"path": "w.bin", "scanners": ["modelscan"]}]},
             "evidence.files[0].scanners should be an object"),
    "signature": ({"status": "verified", "signer": "[bold]anyone[/]"}, "evidence.signer should be an object"),
    "card": ({"fields": {"lineage": "declared"}}, "evidence.fields.lineage should be an object"),
    "eval": ({"claims": {"acc": 0.9}}, "evidence.claims should be a list"),
}


class OnePanel(App[None]):
    def __init__(self, result: StageResult) -> None:
        super().__init__()
        self.result = result

    def compose(self) -> ComposeResult:
        yield panel_for(self.result.stage)(self.result)


@pytest.mark.parametrize("stage", sorted(BROKEN))
async def test_a_panel_over_unreadable_evidence_says_so_in_one_line(stage: str) -> None:
    evidence, says = BROKEN[stage]
    app = OnePanel(StageResult(stage, Status.PASSED, (), evidence))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        panel = app.query_one(PANELS[stage])
        lines = [text_of(s) for s in panel.query(Static).results(Static)]
        assert "passed" in lines[0]  # the headline still says what the stage recorded
        [alarm] = [line for line in lines if "not readable" in line]
        assert f"the stored {stage} evidence is not readable: {says}" in alarm
        assert "run the review's" in alarm


def test_unreadable_scan_evidence_offers_no_code_to_read() -> None:
    broken = StageResult("scan", Status.FAILED, (), {"custom_code": {"files": "modeling.py"}})
    assert code_entries(broken) == []
    listed = StageResult("scan", Status.FAILED, (), {"custom_code": {"files": [
        {"path": "tokenizer.py"}, {"path": "configuration.json"}, {"path": "modeling.py"}]}})
    assert [e["path"] for e in code_entries(listed)] == ["modeling.py", "tokenizer.py", "configuration.json"]
