"""Round two against the eval sandbox: hostile code in the child (``sandbox_attacks.py``) aims
at the parent's trust in the scratch folder, the socket families the filter lets through,
the host's network namespace a serving-engine run shares, the sandbox's memory-backed folders
and the message pipe. Each test names what the attack got before the fix."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from curator.core.models import StageResult
from curator.stages.eval import EvalStage, runner
from curator.stages.eval.sandbox import bwrap_path
from tests.eval.helpers import policy_with, quiet_progress, review_context
from tests.eval.test_isolation import Listener

AF_INET, AF_UNIX, AF_VSOCK = 2, 1, 40
HIGH_BITS = 1 << 32  # the kernel reads socket(2)'s family as an int; seccomp sees all 64 bits


@pytest.fixture
def review(tiny_model: Path, tmp_path: Path) -> dict[str, Path]:
    """A workspace as curator lays it out, a file of the user's outside it, and a task folder."""
    if bwrap_path() is None:
        pytest.fail("bubblewrap is not installed: apt-get install bubblewrap (make installs it)")
    home = tmp_path / "home"
    (home / "keys").mkdir(parents=True)
    (home / "cache").mkdir()
    key = home / "keys" / "curator.key"
    key.write_text("-----BEGIN PRIVATE KEY----- secret")
    review = home / "reviews" / "r1"
    shutil.copytree(tiny_model, review / "files")
    task = tmp_path / "task"
    task.mkdir()
    (task / "probe_task.yaml").write_text("task: probe_task\n")
    victim = tmp_path / "user" / ".bashrc"
    victim.parent.mkdir()
    victim.write_text("precious\n")
    return {"home": home, "key": key, "review": review, "files": review / "files",
            "eval": review / "eval", "task": task, "victim": victim}


def attack(paths: dict[str, Path], monkeypatch: pytest.MonkeyPatch, attacks: dict[str, Any],
           **eval_keys: Any) -> tuple[StageResult, dict[str, Any]]:
    paths["eval"].mkdir(parents=True, exist_ok=True)
    (paths["eval"] / "attacks.json").write_text(json.dumps(attacks))
    monkeypatch.setattr(runner, "CHILD_MODULE", "tests.eval.sandbox_attacks")
    ctx = review_context(paths["files"], paths["review"], policy_with(limit=1, **eval_keys))
    result = EvalStage(tasks=[str(paths["task"] / "probe_task.yaml")]).run(ctx, quiet_progress("eval"))
    assert result.evidence["sandbox"]["kind"] == "bwrap" and result.evidence["sandbox"]["seccomp"]
    try:
        return result, json.loads(result.evidence["child"]["message"])
    except ValueError:
        return result, {}


def unix_listener(address: str) -> Listener:
    """A unix stream server (a path, or an abstract ``\\0`` name) that counts who connects."""
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.bind(address)
    sock.listen()
    return Listener(sock)


def test_symlinks_planted_in_the_eval_folder_are_never_followed_by_the_parent(
        review: dict[str, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    """Before: the child swapped child.stderr.log for a link to the signing key (the parent put
    the key's text in the evidence as the stderr tail) and spec.json for a link to a file of the
    user's (the next run wrote the spec through it)."""
    run_dir = review["eval"]
    links = {str(run_dir / "child.stderr.log"): str(review["key"]),
             str(run_dir / "spec.json"): str(review["victim"]),
             str(run_dir / "tasks"): str(review["victim"].parent)}
    result, report = attack(review, monkeypatch, {"plant": links})
    assert report["plant"].startswith("refused")
    assert "secret" not in json.dumps(result.evidence)
    # even links left there by an older curator (whose child could write here) are not followed
    for link, target in links.items():
        if os.path.lexists(link):
            shutil.rmtree(link) if os.path.isdir(link) and not os.path.islink(link) else os.unlink(link)
        os.symlink(target, link)
    result, report = attack(review, monkeypatch, {"stderr": "a line for the tail\n"})
    assert "secret" not in json.dumps(result.evidence)
    assert review["victim"].read_text() == "precious\n"
    assert sorted(p.name for p in review["victim"].parent.iterdir()) == [".bashrc"]
    assert review["key"].read_text() == "-----BEGIN PRIVATE KEY----- secret"
    assert "a line for the tail" in result.evidence["child"]["stderr_tail"]


def test_the_scratch_folder_is_writable_and_emptied_before_each_run(
        review: dict[str, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    """What one run of the child leaves in its scratch folder is not there for the next run."""
    scratch = review["eval"] / "scratch"
    _, report = attack(review, monkeypatch, {"plant": {str(scratch / "left.txt"): str(review["key"])}})
    assert report["plant"] == "done" and os.path.islink(scratch / "left.txt")
    attack(review, monkeypatch, {})
    assert not os.path.lexists(scratch / "left.txt")


def test_only_the_socket_families_a_run_needs_can_be_created(
        review: dict[str, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    """Before: an IP socket with junk in the family's upper 32 bits, and vsock (the hypervisor's
    socket family, in no network namespace) were created; a unix socket bound under a folder the
    sandbox mounts (here the task folder) was connected to, read-only mount or not."""
    listener = unix_listener(str(review["task"] / "agent.sock"))
    try:
        result, report = attack(review, monkeypatch, {
            "socket": [AF_INET, AF_INET | HIGH_BITS, AF_VSOCK, AF_UNIX | HIGH_BITS],
            "unix_connect": [str(review["task"] / "agent.sock")]}, datasets_dir=str(review["task"]))
    finally:
        listener.close()
    assert str(review["task"]) in result.evidence["sandbox"]["read_only"]
    assert report, result.evidence["child"]
    assert all(v.startswith("refused") for k, v in report.items()), report
    assert listener.connections == 0


def test_a_run_that_shares_the_host_network_cannot_reach_its_abstract_unix_sockets(
        review: dict[str, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    """Before: with a serving engine (local-completions) the child shares the host's network
    namespace, and with it every abstract unix socket (D-Bus, X11, agents) on the machine."""
    name = f"\0curator-round2-{os.getpid()}"
    listener = unix_listener(name)
    try:
        result, report = attack(review, monkeypatch, {"unix_connect": [name], "socket": [AF_VSOCK]},
                                backend={"kind": "local-completions",
                                         "base_url": "http://127.0.0.1:9/v1/completions", "model": "m"})
    finally:
        listener.close()
    assert result.evidence["sandbox"]["network"] == "host"
    assert report[f"unix:{name!r}"].startswith("refused"), report
    assert report[f"socket:{AF_VSOCK}"].startswith("refused")
    assert listener.connections == 0


def test_the_sandbox_memory_folders_are_bounded(review: dict[str, Path],
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """Before: /tmp, the sandbox home, /dev/shm and the tmpfs masking the workspace were sized
    at half the machine's RAM, outside the memory guard (tmpfs pages are not the child's RSS)."""
    from curator.stages.eval.sandbox import TMPFS_MB

    over = {"/dev/shm/fill": TMPFS_MB["/dev/shm"] + 8, "/tmp/fill": TMPFS_MB["/tmp"] + 8,
            "/home/curator-eval/fill": TMPFS_MB["home"] + 8,
            str(review["home"] / "fill"): TMPFS_MB["hidden"] + 8}
    result, report = attack(review, monkeypatch, {"fill": over})
    assert report, result.evidence["child"]
    for path in over:
        assert report[f"fill:{path}"].startswith("refused after"), report
        assert "ENOSPC" in report[f"fill:{path}"]


def test_the_host_environment_does_not_reach_the_child(review: dict[str, Path],
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    secrets = {"HF_TOKEN": "hf_round2", "CURATOR_HOME": str(review["home"]),
               "CURATOR_REGISTRY_PASSWORD": "pw", "AWS_SECRET_ACCESS_KEY": "aws"}
    for name, value in secrets.items():
        monkeypatch.setenv(name, value)
    _, report = attack(review, monkeypatch, {"environ": True})
    assert not set(secrets) & set(report["environ"]), report["environ"]
    values = json.dumps(report["environ"])
    assert not [v for k, v in secrets.items() if k != "CURATOR_HOME" and v in values]


@pytest.mark.parametrize("line", [
    "[" * 100_000 + "]" * 100_000 + "\n",  # deep enough to raise RecursionError, not ValueError
    '["a list, not an object"]\n',
    '{"event": "progress", "done": "many", "total": null}\n',
    '{"event": "result", "rows": "not rows", "unavailable": 5}\n',
    '{"event": "result", "rows": [{"task": "probe_task", "run": "default", "metrics": "none"}]}\n',
])
def test_a_hostile_message_ends_the_run_as_an_error_at_once(
        review: dict[str, Path], monkeypatch: pytest.MonkeyPatch, line: str) -> None:
    """Before: a message the parent could not read killed its reader thread (the run then sat
    until the wall-clock limit) or raised out of the stage."""
    result, _ = attack(review, monkeypatch, {"raw_message": line}, timeout_seconds=600)
    assert result.status.value == "errored"
    assert "wall-clock" not in result.evidence["child"]["message"]


def test_an_oversized_message_is_refused_without_being_held(
        review: dict[str, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    """A line longer than the pipe's limit is an error naming the limit, never buffered whole."""
    big = json.dumps({"event": "error", "message": "x" * (runner.MAX_MESSAGE_BYTES + 10)}) + "\n"
    result, _ = attack(review, monkeypatch, {"raw_message": big})
    assert result.status.value == "errored"
    assert "larger than" in result.evidence["child"]["message"]
    assert len(result.evidence["child"]["message"]) < 1000


def test_the_sandboxed_child_dies_with_the_curator(tmp_path: Path) -> None:
    """A child that forked and left its session still goes when the curator process is killed."""
    script = tmp_path / "curator_stand_in.py"
    script.write_text(
        "import subprocess, sys, time\n"
        "from curator.stages.eval.sandbox import Mounts, Sandbox\n"
        "code = 'import os, time\\nif os.fork() == 0:\\n    os.setsid()\\ntime.sleep(300)'\n"
        "argv, fds = Sandbox('bwrap', Mounts()).command([sys.executable, '-c', code, 'round2-orphan'])\n"
        "subprocess.Popen(argv, pass_fds=fds, start_new_session=True, env={'PATH': '/usr/bin:/bin'})\n"
        "print('started', flush=True)\n"
        "time.sleep(300)\n")
    parent = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE,
                              env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])})
    assert parent.stdout is not None and parent.stdout.readline() == b"started\n"
    for _ in range(100):
        if len(_orphans()) == 2:
            break
        time.sleep(0.1)
    assert len(_orphans()) == 2  # the child and its fork really ran
    parent.kill()
    parent.wait()
    for _ in range(100):
        if not _orphans():
            break
        time.sleep(0.1)
    assert _orphans() == []


def _orphans() -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        try:
            cmdline = (entry / "cmdline").read_bytes() if entry.name.isdigit() else b""
        except OSError:
            continue
        if b"round2-orphan" in cmdline and not cmdline.startswith(b"bwrap") and b"/bwrap" not in cmdline:
            found.append(int(entry.name))
    return found
