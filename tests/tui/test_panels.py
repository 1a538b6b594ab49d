"""The scan, signature, card and eval evidence panels, over reviews that really ran.

Each test opens a real review in the app (the demo samples on the test hub, or a local
folder built here), runs the stages the panel needs, and reads what the panel shows
against the stage's own evidence. Malicious files are built byte by byte with a harmless
payload and never loaded.
"""

from __future__ import annotations

import io
import shutil
from importlib.metadata import version
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console
from rich.text import Text
from textual.app import App, ComposeResult
from textual.pilot import Pilot
from textual.widgets import Markdown, Static, Tree
from textual.widgets.tree import TreeNode

from curator.core.models import Finding, Severity, StageResult, Status
from curator.core.policy import checklists_dir
from curator.core.workspace import Workspace
from curator.review.session import parse_target
from curator.tui.app import make_app
from curator.tui.items import QueueItem
from curator.tui.screens.review import ReviewScreen
from curator.tui.widgets.checklist import StageChecklist
from curator.tui.widgets.evidence import PANELS, panel_for
from curator.tui.widgets.evidence.card import CardPanel, FieldsTable
from curator.tui.widgets.evidence.eval import BAR_WIDTH, EvalPanel, ScoresTable, bar
from curator.tui.widgets.evidence.scan import ScanFilesTable, ScanPanel
from curator.tui.widgets.evidence.signature import DigestTable, SignaturePanel
from tests.needs import need_module
from tests.signature.helpers import IDENTITY, ISSUER, SIGNED
from tests.tui.support import press_until, run_and_wait, wait_until

SIZE = (120, 40)
PICKLED, LOOKALIKE, FINETUNE = "acme-labs/tinyllama-pickled", "acme-1abs/tinyllama-clean", \
    "hobbyist99/tinyllama-finetune"
FIELD_TITLES = ["Publisher identity", "Training data", "Training pipeline", "Eval summary", "Lineage"]


def sample(queue: list[QueueItem], repo_id: str) -> Any:
    return next(item.candidate for item in queue if item.candidate.repo_id == repo_id)


def text_of(widget: Static) -> str:
    """What a Static shows, as plain text: its Text, or its rich table rendered wide (no wrapping)."""
    content = widget.content
    if isinstance(content, str | Text):
        return str(content)
    console = Console(width=400, file=io.StringIO(), color_system=None)
    with console.capture() as captured:
        console.print(content)
    return captured.get()


def labels(node: TreeNode[None]) -> list[str]:
    """Every label under ``node``, depth first, as plain text."""
    out = []
    for child in node.children:
        out.append(str(child.label))
        out += labels(child)
    return out


def voice_node(tree: Tree[None], scanner: str) -> TreeNode[None]:
    return next(n for n in tree.root.children if str(n.label).startswith(f"{scanner} "))


async def run_stages(pilot: Pilot[Any], panel: type[Any]) -> tuple[ReviewScreen, Any]:
    """Run the app's stages, wait for the last one's panel, return the screen and the panel."""
    screen = await run_and_wait(pilot, "r", timeout=600)  # eval runs: every sample has a tokenizer
    await wait_until(pilot, lambda: bool(screen.query(panel)), what=f"the {panel.__name__}")
    await pilot.pause()
    return screen, screen.query_one(panel)


# -- scan -----------------------------------------------------------------------------------
async def test_scan_panel_blocks_the_pickled_checkpoint_with_the_os_system_finding(
        workspace: Workspace, queue: list[QueueItem]) -> None:
    app = make_app(workspace, candidate=sample(queue, PICKLED), only=["fetch", "scan"])
    async with app.run_test(size=SIZE) as pilot:
        screen, panel = await run_stages(pilot, ScanPanel)
        evidence = screen.results["scan"].evidence
        table = panel.query_one(ScanFilesTable)
        # the blocked file comes first, in red, and the cursor is on it
        assert table.get_row_at(0)[1].plain == "pytorch_model.bin"
        mark = table.get_cell("pytorch_model.bin", "verdict")
        path = table.get_cell("pytorch_model.bin", "path")
        assert isinstance(mark, Text) and mark.plain == "✘" and "red" in str(mark.style)
        assert isinstance(path, Text) and "red" in str(path.style)
        for scanner in ("curator", "modelscan", "picklescan", "modelaudit"):
            assert str(table.get_cell("pytorch_model.bin", scanner)) == "✘", scanner
        clean = [p for p in table.by_path if p != "pytorch_model.bin"]
        assert clean and all(str(table.get_cell(p, "verdict")) == "✔" for p in clean)
        assert {f["path"] for f in evidence["files"]} == set(table.by_path)
        # the tree shows the blocked file, each scanner's say with its version
        tree = panel.query_one("#scan-tree", Tree)
        await wait_until(pilot, lambda: "pytorch_model.bin" in str(tree.root.label), what="the file tree")
        assert "blocked" in str(tree.root.label)
        assert "os.system" in " ".join(labels(voice_node(tree, "curator")))
        assert "os.system" in " ".join(labels(voice_node(tree, "picklescan")))
        assert "'system' from module 'os'" in " ".join(labels(voice_node(tree, "modelscan")))
        for scanner in ("modelscan", "picklescan", "modelaudit"):
            assert version(scanner) in str(voice_node(tree, scanner).label)
            assert "flagged" in str(voice_node(tree, scanner).label)
        runs = text_of(panel.query_one("#scanners", Static))
        assert all(f"{name}" in runs and version(name) in runs for name in ("modelscan", "picklescan"))
        assert "1 ✘ blocked" in text_of(panel.query_one(".summary", Static))
        # picking a clean file moves the tree to it
        table.move_cursor(row=table.get_row_index("config.json"))
        await wait_until(pilot, lambda: "config.json" in str(tree.root.label), what="the tree to follow")
        assert "clean" in str(tree.root.label)


def dotted_stack_global() -> bytes:
    """Protocol 4: STACK_GLOBAL('logging', 'os.system')('true'): a dotted name two scanners miss."""
    return b"".join([
        b"\x80\x04",  # PROTO 4
        b"\x8c\x07logging\x94",  # SHORT_BINUNICODE 'logging', MEMOIZE
        b"\x8c\x09os.system\x94",  # SHORT_BINUNICODE 'os.system', MEMOIZE
        b"\x93\x94",  # STACK_GLOBAL -> getattr(logging, 'os').system, MEMOIZE
        b"\x8c\x04true\x94",  # the harmless shell command
        b"\x85R.",  # TUPLE1, REDUCE (the call at load), STOP
    ])


async def test_scan_panel_highlights_scanners_that_disagree(workspace: Workspace, tmp_path: Path) -> None:
    folder = tmp_path / "dotted"
    folder.mkdir()
    (folder / "model.pkl").write_bytes(dotted_stack_global())
    (folder / "config.json").write_text('{"model_type": "gpt2"}\n')
    app = make_app(workspace, candidate=parse_target(str(folder)), only=["fetch", "scan"])
    async with app.run_test(size=SIZE) as pilot:
        screen, panel = await run_stages(pilot, ScanPanel)
        disagreements = screen.results["scan"].evidence["disagreements"]
        assert [d["file"] for d in disagreements] == ["model.pkl"]
        flagged, clean = disagreements[0]["flagged_by"], disagreements[0]["clean_by"]
        assert "curator" in flagged and clean
        alarm = " ".join(text_of(a) for a in panel.query(".alarm").results(Static))
        assert "scanners disagree on model.pkl" in alarm
        assert f"flagged by {', '.join(flagged)}; clean by {', '.join(clean)}" in alarm
        table = panel.query_one(ScanFilesTable)
        assert str(table.get_cell("model.pkl", "verdict")) == "✘⚠"
        for name in clean:
            assert str(table.get_cell("model.pkl", name)) == "✔", name
        tree = panel.query_one("#scan-tree", Tree)
        await wait_until(pilot, lambda: "model.pkl" in str(tree.root.label), what="the file tree")
        assert any(label.startswith("⚠ flagged by") for label in labels(tree.root))


# -- signature ------------------------------------------------------------------------------
async def test_signature_panel_shows_the_signer_log_entry_and_matching_digests(
        workspace: Workspace, tmp_path: Path) -> None:
    folder = tmp_path / "signed"
    shutil.copytree(SIGNED / "v1.1.0-sigstore", folder)
    app = make_app(workspace, candidate=parse_target(str(folder)), only=["fetch", "signature"])
    async with app.run_test(size=SIZE) as pilot:
        screen, panel = await run_stages(pilot, SignaturePanel)
        evidence = screen.results["signature"].evidence
        assert "✔ signature verified · sigstore" in text_of(panel.query_one("#signature-verdict", Static))
        signer = text_of(panel.query_one("#signer", Static))
        assert IDENTITY in signer and ISSUER in signer
        log = text_of(panel.query_one("#transparency", Static))
        assert str(evidence["transparency"]["log_index"]) in log
        assert evidence["transparency"]["integrated_time_utc"] in log
        trust = text_of(panel.query_one("#trust", Static))
        assert "unknown" in trust and "local folder" in trust  # a folder is no publisher to vouch for
        table = panel.query_one(DigestTable)
        states = {path: str(table.get_cell(path, "state")) for path in table.by_path}
        assert states == {"signme-1": "✔ match", "signme-2": "✔ match", "ignore-me": "– ignored",
                          "model.sig": "– ignored"}


async def test_signature_panel_colours_every_kind_of_digest_difference(
        workspace: Workspace, tmp_path: Path) -> None:
    folder = tmp_path / "tampered"
    shutil.copytree(SIGNED / "v1.1.0-sigstore", folder)
    with (folder / "signme-1").open("ab") as handle:
        handle.write(b"x")
    (folder / "signme-2").unlink()
    (folder / "extra.txt").write_text("added after signing\n")
    app = make_app(workspace, candidate=parse_target(str(folder)), only=["fetch", "signature"])
    async with app.run_test(size=SIZE) as pilot:
        screen, panel = await run_stages(pilot, SignaturePanel)
        assert screen.results["signature"].status == Status.FAILED
        assert "✘ signature failed" in text_of(panel.query_one("#signature-verdict", Static))
        table = panel.query_one(DigestTable)
        states = {path: str(table.get_cell(path, "state")) for path in table.by_path}
        assert states == {"signme-1": "✘ mismatch", "signme-2": "✘ missing", "extra.txt": "▲ unsigned",
                          "ignore-me": "– ignored", "model.sig": "– ignored"}
        assert table.get_row_at(0)[1].plain == "signme-1"  # the worst first, under the cursor
        for cell in table.get_row("signme-1"):
            assert isinstance(cell, Text) and "red" in str(cell.style)
        # the table's highlight message fills the detail
        shown = panel.query_one("#digest-detail", Static)
        await wait_until(pilot, lambda: "signme-1" in text_of(shown), what="signme-1's detail")
        detail = text_of(shown)
        signed = next(f for f in screen.results["signature"].evidence["files"] if f["path"] == "signme-1")
        assert signed["signed_sha256"] in detail and signed["manifest_sha256"] in detail
        assert "changed after signing" in detail


# -- card -----------------------------------------------------------------------------------
@pytest.fixture
def protect_acme_labs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The policy with acme-labs protected, as publishers.yaml or the inventory would protect it."""
    checklists = tmp_path / "checklists"
    shutil.copytree(checklists_dir(), checklists)
    policy = checklists / "default.yaml"
    text = policy.read_text()
    assert "    protected: []\n" in text
    policy.write_text(text.replace("    protected: []\n", "    protected: [acme-labs]\n"))
    monkeypatch.setenv("CURATOR_CHECKLISTS", str(checklists))


async def test_card_panel_puts_the_lookalike_warning_first_and_grades_five_fields(
        protect_acme_labs: None, workspace: Workspace, queue: list[QueueItem]) -> None:
    app = make_app(workspace, candidate=sample(queue, LOOKALIKE), only=["fetch", "card"])
    async with app.run_test(size=SIZE) as pilot:
        screen, panel = await run_stages(pilot, CardPanel)
        evidence = screen.results["card"].evidence
        banner = panel.children[1]  # right under the headline, above everything else
        assert isinstance(banner, Static) and banner.has_class("lookalike")
        assert "LOOK-ALIKE" in text_of(banner) and "'acme-1abs'" in text_of(banner)
        assert "'acme-labs'" in text_of(banner)
        table = panel.query_one(FieldsTable)
        assert [table.get_row_at(i)[1].plain for i in range(table.row_count)] == FIELD_TITLES
        for key, field in evidence["fields"].items():
            grade = str(table.get_cell(key, "grade"))
            assert grade == {"verified": "✔✔ verified", "declared": "✔ declared", "missing": "✘ missing"}[
                field["status"]]
        lineage = text_of(panel.query_one("#lineage", Static))
        assert "acme-labs/tinyllama-base" in lineage and "not approved" in lineage
        assert "apache-2.0" in text_of(panel.query_one("#license", Static))
        # the highlighted field's every excerpt, with where it was read (the highlight's message
        # fills it)
        shown = panel.query_one("#field-detail", Static)
        await wait_until(pilot, lambda: text_of(shown).strip(), what="the highlighted field's detail")
        detail = text_of(shown)
        first = evidence["fields"]["publisher_identity"]["evidence"]
        assert all(e["excerpt"] in detail and f"line {e['line']}" in detail for e in first)


async def test_card_panel_shows_missing_fields_and_the_card_as_written(
        workspace: Workspace, queue: list[QueueItem]) -> None:
    app = make_app(workspace, candidate=sample(queue, FINETUNE), only=["fetch", "card"])
    async with app.run_test(size=SIZE) as pilot:
        screen, panel = await run_stages(pilot, CardPanel)
        assert not panel.query(".lookalike")
        table = panel.query_one(FieldsTable)
        assert [str(table.get_cell(key, "grade")) for key in table.fields] == ["✘ missing"] * 5
        assert "only placeholders" in str(table.get_cell("publisher_identity", "evidence (↑↓ for all)"))
        assert "✘ missing" in text_of(panel.query_one("#license", Static))
        # m (within the panel) shows README.md rendered; m again returns to the evidence
        assert screen.review is not None
        readme = app.session.context(screen.review).files_dir / "README.md"
        panel.query_one(FieldsTable).focus()
        await pilot.press("m")
        # the Markdown is in the DOM before its mount ends; "reading" comes after it
        await wait_until(pilot, lambda: bool(panel.query(Markdown)) and panel.has_class("reading"),
                         what="the card's Markdown")
        source = panel.query_one(Markdown).source
        _, front_matter, body = readme.read_text().split("---\n", 2)
        assert source.startswith(f"```yaml\n{front_matter}")  # metadata as a code block, not prose
        assert body.strip() in source and "# Model Card for Model ID" in body
        assert "as written" in text_of(panel.query_one("#card-text Static", Static))
        assert not panel.query_one(FieldsTable).display or not panel.query_one("#card-evidence").display
        await press_until(pilot, "m", lambda: not panel.has_class("reading"), "the evidence again")
        # a card changed on disk after grading is shown with a warning, not passed off as graded
        readme.write_text(readme.read_text() + "\nlicense: mit\n")
        screen.query_one("#checklist").focus()
        checklist = screen.query_one(StageChecklist)
        # away to fetch, and back to a fresh card panel
        await press_until(pilot, "up", lambda: checklist.selected_stage == "fetch", "fetch")
        await pilot.press("down")
        await wait_until(pilot, lambda: any(p is not panel and p.query(FieldsTable)
                                            for p in screen.query(CardPanel)), what="a new card panel")
        fresh = screen.query_one(CardPanel)
        fresh.query_one(FieldsTable).focus()
        await pilot.press("m")
        await wait_until(pilot, lambda: bool(fresh.query(Markdown)) and fresh.has_class("reading"),
                         what="the card's Markdown")
        assert "not the file the card stage graded" in text_of(fresh.query_one("#card-text Static", Static))


# -- eval -----------------------------------------------------------------------------------
TINY_CARD = """---
license: apache-2.0
model-index:
- name: tiny
  results:
  - task: {type: text-generation}
    dataset: {name: curator basics, type: curator/basics, split: test}
    metrics:
    - {type: acc, value: 0.96}
---
# tiny
A random 2-layer GPT-2 that claims far more than it can do.
"""


@pytest.mark.slow  # builds a tiny GPT-2 and runs lm-eval on it (~25 s on 2 cores)
async def test_eval_panel_shows_measured_vs_claimed_with_bars(workspace: Workspace, tmp_path: Path) -> None:
    need_module("lm_eval")
    from tests.eval.helpers import build_tiny_gpt2

    folder = build_tiny_gpt2(tmp_path / "tiny")
    (folder / "README.md").write_text(TINY_CARD)
    app = make_app(workspace, candidate=parse_target(str(folder)), only=["fetch", "scan", "card", "eval"])
    async with app.run_test(size=SIZE) as pilot:
        screen, panel = await run_stages(pilot, EvalPanel)
        evidence = screen.results["eval"].evidence
        claim = next(c for c in evidence["claims"] if c.get("mapped_task") == "curator_basics")
        assert claim["verdict"] == "not-reproduced"  # a random model is near chance (0.25) on 4 choices
        table = panel.query_one(ScoresTable)
        row = next(k for k, r in table.rows_by_key.items() if r.claim)
        cells = [str(c) for c in table.get_row(row)]
        assert cells[:2] == ["curator_basics", "acc"]
        assert cells[3] == f"{claim['measured']:.3f}" and cells[4] == f"{claim['stderr']:.3f}"
        assert cells[5] == "0.960" and cells[6] == "✘ not-reproduced"
        measured_rows = {(r.task, r.metric) for r in table.rows_by_key.values() if r.measured is not None}
        assert measured_rows == {(s["task"], m) for s in evidence["scores"] for m in s["metrics"]
                                 if not m.endswith("_stderr")}
        chart = text_of(panel.query_one("#eval-chart", Static)).splitlines()
        at = chart.index("curator_basics acc")
        measured, claimed = chart[at + 1], chart[at + 2]
        assert measured.startswith("  measured █") and f"{claim['measured']:.3f}" in measured
        assert claimed.startswith("  claimed  █") and "0.960" in claimed and "not-reproduced" in claimed
        # one scale for both: 0.96 of a 32-cell bar is 30.7 cells, ~0.25 about 8
        assert claimed.count("█") == 30 and measured.count("█") == int(claim["measured"] * 32)
        detail = panel.query_one("#claim-detail", Static)
        await wait_until(pilot, lambda: text_of(detail).strip(), what="the highlighted claim's detail")
        assert "model-index[0].results[0].metrics[0]" in text_of(detail)


# -- every panel, when its stage never got going ----------------------------------------------
class OnePanel(App[None]):
    def __init__(self, result: StageResult) -> None:
        super().__init__()
        self.result = result

    def compose(self) -> ComposeResult:
        yield panel_for(self.result.stage)(self.result)


@pytest.mark.parametrize("stage", ["scan", "signature", "card", "eval"])
async def test_a_crashed_stage_shows_its_finding_and_says_there_is_no_evidence(stage: str) -> None:
    crash = Finding(Severity.HIGH, "stage-crashed", f"{stage} crashed: boom; run it again", tool="curator")
    app = OnePanel(StageResult(stage, Status.ERRORED, (crash,), {}))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        panel = app.query_one(PANELS[stage])
        shown = " ".join(text_of(s) for s in panel.query(Static).results(Static))
        assert "errored" in shown and f"{stage} crashed: boom" in shown
        assert "did not get that far" in shown or "did not finish" in shown


@pytest.mark.parametrize(("value", "cells"), [(0.0, 0), (-0.3, 0), (0.5, 16), (1.0, 32), (7.0, 32)])
def test_a_bar_is_to_scale_and_never_wider_than_its_width(value: float, cells: int) -> None:
    drawn = bar(value, 1.0)
    assert len(drawn) == BAR_WIDTH and drawn.count("█") == cells
    assert bar(0.51, 1.0).rstrip() != bar(0.5, 1.0).rstrip()  # eighth blocks show what a cell hides
