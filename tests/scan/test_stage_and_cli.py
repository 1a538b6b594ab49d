"""The stage inside a review and ``curator scan PATH``: one code path, the contract's keys and exit codes."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from curator.core.models import Candidate, FileEntry, Manifest, StageResult, Status
from curator.core.policy import Policy
from curator.core.progress import Cancelled, Progress
from curator.core.stage import ReviewContext
from curator.stages import build_stages
from curator.stages.scan import ScanConfig, files_under, scan_paths
from tests.scan import corpus, formats, pickles


def _curator(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "curator", *args], capture_output=True, text=True,
                          timeout=300, check=False)


@pytest.fixture(scope="module")
def hf_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small, ordinary HF model folder: safetensors, torch bin, tokenizer files, chat template."""
    root = tmp_path_factory.mktemp("benign")
    corpus.benign(root)
    folder = root / "benign" / "hf_folder"
    state = pickles.benign_state_dict({"w": ("FloatStorage", (2, 2))})
    formats.torch_zip(folder / "pytorch_model.bin", state, [b"\x00" * 16], prefix="pytorch_model")
    return folder


def test_stage_is_registered_and_in_the_default_policy() -> None:
    (stage,) = build_stages(["scan"])
    assert stage.name == "scan" and stage.requires == ("fetch",)
    stages = Policy.load().stages
    assert stages.index("scan") == stages.index("fetch") + 1


def test_stage_passes_an_ordinary_model_with_rich_evidence(hf_folder: Path, tmp_path: Path) -> None:
    files = [FileEntry(p.name, p.stat().st_size, f"{i:064x}")
             for i, p in enumerate(sorted(hf_folder.iterdir()))]
    manifest = Manifest(tuple(files))
    ctx = ReviewContext("r1", Candidate("local/tiny", "main", "local"), hf_folder, tmp_path / "work",
                        Policy.load(), {"fetch": StageResult("fetch", Status.PASSED,
                                                             evidence={"files": manifest.to_list()})})
    (stage,) = build_stages(["scan"])
    result = stage.run(ctx, Progress("scan", [], threading.Event()))
    assert result.status == Status.PASSED, [f.message for f in result.findings]
    assert set(result.tool_versions) == {"modelscan", "picklescan", "modelaudit"}
    assert all(v[0].isdigit() for v in result.tool_versions.values())
    evidence = result.evidence
    assert {f["path"] for f in evidence["files"]} == {f.path for f in files}
    by_path = {f["path"]: f for f in evidence["files"]}
    assert by_path["pytorch_model.bin"]["sha256"] == manifest.get("pytorch_model.bin").sha256  # type: ignore[union-attr]
    voices = by_path["pytorch_model.bin"]["scanners"]
    assert {n: v["status"] for n, v in voices.items()} == {"curator": "clean", "modelscan": "clean",
                                                            "picklescan": "clean", "modelaudit": "not-given"}
    assert "plain torch state dict" in voices["modelaudit"]["note"]
    # the extracted data.pkl, and the file as it is (whatever curator made of it, their findings count)
    assert voices["modelscan"]["targets"] == ["pytorch_model.bin!pytorch_model/data.pkl", "pytorch_model.bin"]
    # small enough for modelaudit's size cap: it reads the file as it is, and agrees
    assert by_path["model.safetensors"]["scanners"]["modelaudit"]["status"] == "clean"
    assert evidence["scanners"]["modelaudit"]["status"] == "ok"
    assert evidence["disagreements"] == []
    assert evidence["manifest_digest"] == manifest.digest
    assert not (tmp_path / "work").exists() or not any((tmp_path / "work").iterdir())  # scratch removed
    json.dumps(result.to_dict())  # evidence is JSON-serialisable


def test_cli_clean_folder_exits_0_with_the_contract_keys(hf_folder: Path) -> None:
    done = _curator("scan", str(hf_folder), "--json")
    assert done.returncode == 0, done.stderr
    doc = json.loads(done.stdout)  # exactly one JSON document on stdout
    assert {"path", "verdict", "findings"} <= set(doc["files"][0])
    assert {f["verdict"] for f in doc["files"]} == {"clean"}
    assert doc["status"] == "passed"


def test_cli_blocked_file_exits_1(tmp_path: Path) -> None:
    path = tmp_path / "pytorch_model.bin"
    path.write_bytes(pickles.os_system_call())
    done = _curator("scan", str(path), "--json")
    assert done.returncode == 1
    (item,) = json.loads(done.stdout)["files"]
    assert item == {**item, "path": "pytorch_model.bin", "verdict": "blocked"}
    human = _curator("scan", str(path))
    assert human.returncode == 1 and "blocked" in human.stderr and human.stdout == ""


def test_cli_unscanned_file_exits_1(tmp_path: Path) -> None:
    (tmp_path / "model.7z").write_bytes(b"7z\xbc\xaf\x27\x1c\x00\x04" + b"\x00" * 24)
    done = _curator("scan", str(tmp_path), "--json")
    assert done.returncode == 1
    assert json.loads(done.stdout)["files"][0]["verdict"] == "unscanned"


def test_cli_missing_path_exits_2_with_one_line() -> None:
    done = _curator("scan", "/nonexistent/model", "--json")
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.count("\n") == 1 and "/nonexistent/model" in done.stderr


def test_cancel_stops_the_scan_and_removes_scratch(hf_folder: Path, tmp_path: Path) -> None:
    config = ScanConfig.from_section(Policy.load().section("scan"))
    cancel = threading.Event()
    cancel.set()
    with pytest.raises(Cancelled):
        scan_paths(hf_folder, files_under(hf_folder, config), config, Progress("scan", [], cancel), tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_scan_modules_import_nothing_heavy() -> None:
    code = ("import sys, curator.stages.scan, curator.cli.scan_cmd; "
            "heavy = {'textual', 'modelscan', 'modelaudit', 'picklescan', 'h5py', 'jinja2', 'numpy', "
            "'torch'}; "
            "print(sorted(heavy & set(sys.modules)))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def test_state_dicts_reach_modelaudit_when_the_policy_says_so(hf_folder: Path) -> None:
    data = {**Policy.load().section("scan"), "modelaudit_skip_state_dicts": False}
    config = ScanConfig.from_section(data)
    files = [f for f in files_under(hf_folder, config) if f.path == "pytorch_model.bin"]
    report = scan_paths(hf_folder, files, config, Progress("scan", [], threading.Event()))
    (item,) = report.files
    assert item.verdict.value == "clean"
    assert item.voices["modelaudit"].status == "clean"
    assert item.voices["modelaudit"].targets == ("pytorch_model.bin!pytorch_model/data.pkl",
                                                 "pytorch_model.bin")


def test_cli_ends_with_a_summary_line_naming_the_blocked_and_unscanned_files(hf_folder: Path) -> None:
    (hf_folder / "evil.pkl").write_bytes(pickles.os_system_call())
    (hf_folder / "model.7z").write_bytes(b"7z\xbc\xaf\x27\x1c\x00\x04" + b"\x00" * 24)
    doc = json.loads(_curator("scan", str(hf_folder), "--json").stdout)
    counts = {v: sum(1 for f in doc["files"] if f["verdict"] == v) for v in ("clean", "blocked", "unscanned")}
    done = _curator("scan", str(hf_folder))
    assert done.returncode == 1 and done.stdout == ""
    last = done.stderr.rstrip("\n").splitlines()[-1]
    assert last == (f"{len(doc['files'])} files: {counts['clean']} clean, {counts['blocked']} blocked, "
                    f"{counts['unscanned']} unscanned — blocked: evil.pkl — unscanned: model.7z")
