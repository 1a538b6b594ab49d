"""The eval child's sandbox holds: from inside (a probe run exactly as the child is), the
workspace's key is unreadable, a loopback server is unreachable even through libc, and
nothing outside the scratch folder can be written. The same probe without the sandbox
shows each of these walls missing, so the tests cannot pass by accident."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from curator.core.models import Status
from curator.stages.eval import EvalStage, runner
from curator.stages.eval.sandbox import bwrap_path
from tests.eval.helpers import policy_with, quiet_progress, review_context
from tests.eval.test_isolation import Listener


@pytest.fixture
def workspace_review(tiny_model: Path, tmp_path: Path) -> dict[str, Path]:
    """A workspace as curator lays it out: a signing key, and a review holding the pinned files."""
    if bwrap_path() is None:
        pytest.fail("bubblewrap is not installed: apt-get install bubblewrap (make installs it)")
    home = tmp_path / "home"
    (home / "keys").mkdir(parents=True)
    key = home / "keys" / "curator.key"
    key.write_text("-----BEGIN PRIVATE KEY----- secret")
    key.chmod(0o600)
    review = home / "reviews" / "r1"
    files = review / "files"
    shutil.copytree(tiny_model, files)
    task = tmp_path / "task"
    task.mkdir()
    (task / "probe_task.yaml").write_text("task: probe_task\n")
    return {"home": home, "key": key, "review": review, "files": files, "task": task / "probe_task.yaml"}


def probe(paths: dict[str, Path], monkeypatch: pytest.MonkeyPatch,
          **eval_keys: Any) -> tuple[Any, dict[str, Any]]:
    listener = Listener()
    writes = {"model": paths["files"] / "config.json", "review": paths["review"] / "planted.txt",
              "home": paths["home"] / "planted.txt",
              "scratch": paths["review"] / "eval" / "scratch" / "ok.txt",
              "root": Path("/planted-by-eval.txt")}
    (paths["review"] / "eval").mkdir(parents=True, exist_ok=True)
    (paths["review"] / "eval" / "probe.json").write_text(json.dumps({
        "key": str(paths["key"]), "home": str(paths["home"]), "port": listener.port,
        "writes": {k: str(v) for k, v in writes.items()}}))
    monkeypatch.setattr(runner, "CHILD_MODULE", "tests.eval.sandbox_probe")
    ctx = review_context(paths["files"], paths["review"], policy_with(limit=1, **eval_keys))
    try:
        result = EvalStage(tasks=[str(paths["task"])],
                           unsandboxed=eval_keys.get("sandbox") == "none").run(ctx, quiet_progress("eval"))
    finally:
        listener.close()
    report = json.loads(result.evidence["child"]["message"])
    report["connections"] = str(listener.connections)
    report["host:review"] = "planted" if writes["review"].exists() else "absent"
    report["host:home"] = "planted" if writes["home"].exists() else "absent"
    report["host:scratch"] = "written" if writes["scratch"].exists() else "absent"
    return result, report


def test_inside_the_sandbox_the_key_network_and_workspace_are_out_of_reach(
        workspace_review: dict[str, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    result, report = probe(workspace_review, monkeypatch)
    assert result.evidence["sandbox"]["kind"] == "bwrap" and result.evidence["sandbox"]["seccomp"]
    assert report["read_key"] == "refused: ENOENT"
    assert report["list_home"] == ["reviews"]  # only the empty path to its scratch folder
    assert report["python_connect"].startswith("refused")
    assert report["libc_connect"].startswith("refused")
    assert report["connections"] == "0"
    assert report["write:model"] == "refused: EROFS"
    # under /tmp a write lands in the sandbox's own tmpfs, elsewhere the root is read-only:
    # either way nothing reaches the host outside the scratch folder
    assert report["host:review"] == "absent" and report["host:home"] == "absent"
    assert report["write:root"] == "refused: EROFS"
    assert report["ptrace"] == "refused"
    # the scratch folder stays writable: the probe really ran and really tried
    assert report["write:scratch"] == "done" and report["host:scratch"] == "written"
    sandbox = result.evidence["sandbox"]
    home, review = workspace_review["home"], workspace_review["review"]
    assert all(not Path(p).is_relative_to(home) or Path(p).is_relative_to(review)
               for p in sandbox["read_only"] + sandbox["writable"])


def test_a_data_folder_holding_the_workspace_does_not_expose_it(
        workspace_review: dict[str, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    """A policy that points datasets_dir at the workspace itself: mounted, then the workspace masked."""
    home = workspace_review["home"]
    result, report = probe(workspace_review, monkeypatch, datasets_dir=str(home.parent))
    assert str(home.parent) in result.evidence["sandbox"]["read_only"]
    assert result.evidence["sandbox"]["hidden"] == [str(home)]
    assert report["read_key"] == "refused: ENOENT"
    assert report["list_home"] == ["reviews"]
    assert report["write:scratch"] == "done" and report["host:scratch"] == "written"


def test_without_the_sandbox_the_same_probe_reaches_everything(
        workspace_review: dict[str, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    """The old plain child: what the walls above keep out (and --unsandboxed lets in, recorded)."""
    result, report = probe(workspace_review, monkeypatch, sandbox="none")
    assert report["read_key"] == "done" and report["libc_connect"] == "done"
    assert report["host:home"] == "planted"
    Path("/planted-by-eval.txt").unlink(missing_ok=True)
    assert result.evidence["sandbox"] == {**result.evidence["sandbox"], "kind": "none", "unsandboxed": True}
    assert "eval-unsandboxed" in {f.code for f in result.findings}


def test_no_sandbox_means_no_weights_are_loaded_without_unsandboxed(
        tiny_model: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    started: list[Any] = []
    monkeypatch.setattr(runner.subprocess, "Popen", lambda *a, **k: started.append(a))
    ctx = review_context(tiny_model, tmp_path / "work", policy_with(sandbox="none"))
    result = EvalStage().run(ctx, quiet_progress("eval"))
    assert result.status == Status.ERRORED and started == []
    assert result.findings[0].code == "sandbox-unavailable"
    assert "--unsandboxed" in result.findings[0].message


def test_a_machine_without_bwrap_refuses_too(tiny_model: Path, tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    ctx = review_context(tiny_model, tmp_path / "work", policy_with())
    result = EvalStage().run(ctx, quiet_progress("eval"))
    assert result.status == Status.ERRORED
    assert "bubblewrap (bwrap) is not installed" in result.findings[0].message
