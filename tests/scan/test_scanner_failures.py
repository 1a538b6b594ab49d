"""A scanner that crashes, hangs or babbles leaves its files unscanned and the stage errored, never passed.

The one place a stand-in is used: the thing under test is curator's handling of a broken
scanner, so the scanners here are small scripts that break on purpose, put in place through
the policy's ``scanner_commands`` (the same setting a team would use).
"""

from __future__ import annotations

import sys
import threading
import time
from pathlib import Path

import pytest

from curator.core.models import Candidate, FileEntry, Manifest, StageResult, Status
from curator.core.policy import Policy
from curator.core.progress import Progress
from curator.core.stage import ReviewContext
from curator.stages.scan import ScanConfig, ScanStage, files_under, scan_paths
from tests.scan import pickles

CRASH = ("import sys\nsys.stderr.write('Traceback (most recent call last):\\n  File scanner.py\\n"
         "RuntimeError: scanner exploded on purpose\\n')\nsys.exit(3)\n")
HANG = "import time\ntime.sleep(120)\n"
# what picklescan and modelscan do with a pickle of 10^8 opcodes: grow past any sane size
GREEDY = "import sys\nheld = bytearray(1 << 30)\nprint('Scanned files: 1')\n"
BABBLE = ("import sys\nargs = sys.argv\nout = args[args.index('-o') + 1]\n"
          "open(out, 'w').write('not json {')\nsys.exit(1)\n")


def _script(tmp_path: Path, name: str, body: str) -> list[str]:
    path = tmp_path / f"{name}.py"
    path.write_text(body)
    return [sys.executable, str(path)]


def _model(tmp_path: Path) -> Path:
    folder = tmp_path / "model"
    folder.mkdir()
    (folder / "model.pkl").write_bytes(pickles.benign_state_dict({"w": ("FloatStorage", (2, 2))}))
    return folder


def _progress() -> Progress:
    return Progress("scan", [], threading.Event())


def _config(**overrides: object) -> ScanConfig:
    data = dict(Policy.load().section("scan"))
    data.update(overrides)
    return ScanConfig.from_section(data)


def test_crashing_scanner_leaves_the_file_unscanned_with_its_stderr(tmp_path: Path) -> None:
    folder = _model(tmp_path)
    config = _config(scanners=["picklescan"],
                     scanner_commands={"picklescan": _script(tmp_path, "crash", CRASH)})
    report = scan_paths(folder, files_under(folder, config), config, _progress())
    (item,) = report.files
    assert item.verdict.value == "unscanned"
    assert report.status == Status.ERRORED
    run = report.runs["picklescan"]
    assert run.status == "crashed" and run.exit_code == 3
    assert "RuntimeError: scanner exploded on purpose" in run.stderr_tail
    assert any("exploded" in r for r in item.reasons)


def test_hanging_scanner_is_killed_at_the_timeout(tmp_path: Path) -> None:
    folder = _model(tmp_path)
    config = _config(scanners=["modelaudit"], timeout_seconds=1.5, modelaudit_skip_state_dicts=False,
                     scanner_commands={"modelaudit": _script(tmp_path, "hang", HANG)})
    started = time.monotonic()
    report = scan_paths(folder, files_under(folder, config), config, _progress())
    assert time.monotonic() - started < 60  # killed at 1.5 s; a hang would never end
    assert report.runs["modelaudit"].status == "timeout"
    assert report.files[0].verdict.value == "unscanned"
    assert "timed out after" in report.files[0].reasons[0]


def test_scanner_child_is_capped_in_memory(tmp_path: Path) -> None:
    folder = _model(tmp_path)
    config = _config(scanners=["picklescan"], scanner_memory_bytes=256 << 20,
                     scanner_commands={"picklescan": _script(tmp_path, "greedy", GREEDY)})
    report = scan_paths(folder, files_under(folder, config), config, _progress())
    run = report.runs["picklescan"]
    assert run.status == "crashed" and "MemoryError" in " ".join(run.stderr_tail)
    assert report.files[0].verdict.value == "unscanned"
    # the same scanner without the cap gets its gigabyte and reports
    uncapped = _config(scanners=["picklescan"], scanner_memory_bytes=0,
                       scanner_commands={"picklescan": _script(tmp_path, "greedy", GREEDY)})
    again = scan_paths(folder, files_under(folder, uncapped), uncapped, _progress())
    assert again.runs["picklescan"].status == "ok"


def test_scanner_writing_garbage_is_no_verdict(tmp_path: Path) -> None:
    folder = _model(tmp_path)
    config = _config(scanners=["modelscan"],
                     scanner_commands={"modelscan": _script(tmp_path, "babble", BABBLE)})
    report = scan_paths(folder, files_under(folder, config), config, _progress())
    assert report.runs["modelscan"].status == "crashed"
    assert report.files[0].verdict.value == "unscanned"


def test_scanner_that_cannot_start_is_no_verdict(tmp_path: Path) -> None:
    folder = _model(tmp_path)
    config = _config(scanners=["picklescan"], scanner_commands={"picklescan": [str(tmp_path / "nowhere")]})
    report = scan_paths(folder, files_under(folder, config), config, _progress())
    assert report.files[0].verdict.value == "unscanned"
    assert "cannot start" in " ".join(report.runs["picklescan"].stderr_tail)


def test_blocking_finding_outranks_a_crashed_scanner(tmp_path: Path) -> None:
    folder = tmp_path / "model"
    folder.mkdir()
    (folder / "model.pkl").write_bytes(pickles.os_system_call())
    config = _config(scanners=["picklescan"],
                     scanner_commands={"picklescan": _script(tmp_path, "crash", CRASH)})
    report = scan_paths(folder, files_under(folder, config), config, _progress())
    assert report.files[0].verdict.value == "blocked"
    assert report.status == Status.FAILED


def _context(tmp_path: Path, folder: Path, policy: Policy) -> ReviewContext:
    files = [FileEntry(p.name, p.stat().st_size, "0" * 64) for p in folder.iterdir()]
    fetch = StageResult("fetch", Status.PASSED, evidence={"files": Manifest(tuple(files)).to_list()})
    candidate = Candidate("local/model", "main", "local", path=str(folder))
    return ReviewContext(review_id="r1", candidate=candidate, files_dir=folder, work_dir=tmp_path / "work",
                         policy=policy, results={"fetch": fetch})


def test_stage_errors_with_the_stderr_tail_in_its_evidence(tmp_path: Path) -> None:
    folder = _model(tmp_path)
    base = Policy.load()
    scan = {**base.section("scan"), "scanners": ["picklescan"],
            "scanner_commands": {"picklescan": _script(tmp_path, "crash", CRASH)}}
    policy = Policy({**base.data, "scan": scan}, base.directory)
    result = ScanStage().run(_context(tmp_path, folder, policy), _progress())
    assert result.status == Status.ERRORED
    tail = result.evidence["scanners"]["picklescan"]["stderr_tail"]
    assert "RuntimeError: scanner exploded on purpose" in tail
    assert result.evidence["files"][0]["verdict"] == "unscanned"
    assert result.evidence["files"][0]["scanners"]["picklescan"]["status"] == "error"
    assert any(f.code == "file-unscanned" for f in result.findings)


def test_missing_file_is_unscanned_and_changed_file_blocks(tmp_path: Path) -> None:
    folder = _model(tmp_path)
    ctx = _context(tmp_path, folder, Policy.load())
    fetch = ctx.results["fetch"]
    listed = fetch.evidence["files"] + [{"path": "gone.bin", "size": 10, "sha256": "0" * 64}]
    listed[0] = {**listed[0], "size": listed[0]["size"] + 1}
    ctx.results["fetch"] = StageResult("fetch", Status.PASSED, evidence={"files": listed})
    ctx.policy = Policy({**ctx.policy.data, "scan": {**ctx.policy.section("scan"), "scanners": []}},
                        ctx.policy.directory)
    result = ScanStage().run(ctx, _progress())
    by_path = {f["path"]: f for f in result.evidence["files"]}
    assert by_path["gone.bin"]["verdict"] == "unscanned"
    assert by_path["model.pkl"]["verdict"] == "blocked"
    assert "file-changed-since-fetch" in {f["code"] for f in by_path["model.pkl"]["findings"]}


@pytest.mark.parametrize("bad", [{"scaners": ["modelscan"]}, {"scanners": ["clamav"]},
                                 {"block_severities": ["severe"]}])
def test_policy_typos_are_refused(bad: dict[str, object]) -> None:
    from curator.core.errors import UsageError

    with pytest.raises(UsageError):
        ScanConfig.from_section(bad)


def test_policy_can_allow_only_some_formats(tmp_path: Path) -> None:
    folder = _model(tmp_path)
    (folder / "config.json").write_text("{}")
    config = _config(scanners=[], allowed_formats=["safetensors", "json"])
    report = scan_paths(folder, files_under(folder, config), config, _progress())
    verdicts = {f.path: (f.verdict.value, {x.code for x in f.findings}) for f in report.files}
    assert verdicts == {"config.json": ("clean", set()), "model.pkl": ("blocked", {"format-not-allowed"})}


def test_symlink_out_of_the_folder_is_not_followed(tmp_path: Path) -> None:
    folder = _model(tmp_path)
    (folder / "weights.bin").symlink_to("/etc/hostname")
    config = _config(scanners=[])
    report = scan_paths(folder, files_under(folder, config), config, _progress())
    link = next(f for f in report.files if f.path == "weights.bin")
    assert link.verdict.value == "blocked" and link.findings[0].code == "symlink-escapes"


def test_scanner_output_is_read_when_the_scratch_path_has_spaces(tmp_path: Path) -> None:
    folder = tmp_path / "my model"
    folder.mkdir()
    (folder / "weights").write_bytes(pickles.os_system_call())
    (folder / "broken.bin").write_bytes(pickles.broken_after_payload())
    config = _config(scanners=["picklescan"])
    report = scan_paths(folder, files_under(folder, config), config, _progress(), tmp_path / "scratch dir")
    voices = {f.path: f.voices["picklescan"] for f in report.files}
    assert voices["weights"].status == "flagged"
    assert voices["broken.bin"].status == "flagged"  # found before the break, and reported as unread too
