"""The parent stays in control of the eval child: cancel, resume, crash, limits, no network."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from curator.core.models import Status
from curator.core.progress import Cancelled
from curator.stages.eval import EvalStage
from tests.eval.helpers import Recorder, policy_with, quiet_progress, review_context, write_mc_task


def child_pids() -> list[int]:
    """Eval children of this test process (they run ``curator.stages.eval.child``)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                cmdline = (entry / "cmdline").read_bytes()
                stat = (entry / "stat").read_text().split()
            except OSError:
                continue
            if b"curator.stages.eval.child" in cmdline and int(stat[3]) == os.getpid():
                found.append(int(entry.name))
    return found


def test_cancel_mid_run_stops_the_child_and_the_rerun_resumes(tiny_model: Path, long_task: Path,
                                                               tmp_path: Path) -> None:
    policy = policy_with(tasks={"causal": [str(long_task)]}, batch_size=1)
    cancel = threading.Event()
    seen: list[float] = []

    def stop_once_running(done: float, total: float | None) -> None:
        seen.append(done)
        cancel.set()

    ctx = review_context(tiny_model, tmp_path / "work", policy)
    started = time.monotonic()
    with pytest.raises(Cancelled):
        EvalStage().run(ctx, quiet_progress("eval", [Recorder(stop_once_running)], cancel))
    assert time.monotonic() - started < 120
    assert seen and min(seen) < 800  # it was mid-run
    assert child_pids() == []

    # the request cache is keyed by the model's bytes and the answers, not by batch size
    ctx.policy = policy_with(tasks={"causal": [str(long_task)]}, batch_size=8)
    recorder = Recorder()
    result = EvalStage().run(ctx, quiet_progress("eval", [recorder]))
    assert result.status == Status.PASSED
    cached = result.evidence["cache"]["entries"]
    assert 0 < cached["before"] < 800 and cached["after"] == 800
    assert result.evidence["requests"]["computed"] == 800 - cached["before"]
    # progress is in requests, with the total announced before the work
    requests = [r for r in recorder.reports if r[2] == "requests"]
    assert requests and requests[-1][0] == requests[-1][1] == 800 - cached["before"]


def test_a_child_killed_mid_run_is_errored_with_its_stderr_tail(tiny_model: Path, long_task: Path,
                                                               tmp_path: Path) -> None:
    policy = policy_with(tasks={"causal": [str(long_task)]}, batch_size=1)

    def kill_it(done: float, total: float | None) -> None:
        for pid in child_pids():
            os.kill(pid, signal.SIGKILL)

    ctx = review_context(tiny_model, tmp_path / "work", policy)
    result = EvalStage().run(ctx, quiet_progress("eval", [Recorder(kill_it)]))
    assert result.status == Status.ERRORED
    assert "killed by signal 9" in result.findings[0].message
    assert result.evidence["child"]["exit_code"] == -signal.SIGKILL
    assert any("long_mc" in line or "loglikelihood" in line.lower()
               for line in result.evidence["child"]["stderr_tail"])


def test_a_model_that_fails_to_load_is_errored_with_the_reason(tiny_model: Path, tmp_path: Path) -> None:
    model = tmp_path / "truncated"
    shutil.copytree(tiny_model, model)
    weights = model / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[:5000])
    result = EvalStage().run(review_context(model, tmp_path / "work", policy_with(limit=2)),
                             quiet_progress("eval"))
    assert result.status == Status.ERRORED
    message = result.findings[0].message
    assert "did not finish" in message and "SafetensorError" in message
    assert any("Error" in line for line in result.evidence["child"]["stderr_tail"])


def test_wall_clock_limit_stops_the_child(tiny_model: Path, tmp_path: Path) -> None:
    ctx = review_context(tiny_model, tmp_path / "work", policy_with(timeout_seconds=1))
    result = EvalStage().run(ctx, quiet_progress("eval"))
    assert result.status == Status.ERRORED
    assert "longer than the 1s wall-clock limit" in result.findings[0].message
    assert result.evidence["child"]["seconds"] < 60  # stopped at its 1 s limit, not run to the end
    assert child_pids() == []


def test_memory_guard_stops_the_child(tiny_model: Path, tmp_path: Path) -> None:
    ctx = review_context(tiny_model, tmp_path / "work", policy_with(max_memory_mb=60))
    result = EvalStage().run(ctx, quiet_progress("eval"))
    assert result.status == Status.ERRORED
    assert "over the memory guard of 60 MB" in result.findings[0].message
    assert child_pids() == []


class Listener:
    """A server that only counts who connects: loopback TCP, or the listening socket given."""

    def __init__(self, sock: socket.socket | None = None) -> None:
        self.sock = sock or socket.create_server(("127.0.0.1", 0))
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1] if self.sock.family == socket.AF_INET else 0
        self.connections = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            self.connections += 1
            conn.close()

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=2)
        self.sock.close()


def test_network_guard_refuses_at_once() -> None:
    listener = Listener()
    code = ("import socket, time\nfrom curator.stages.eval.guard import refuse_network, NetworkRefused\n"
            "refuse_network(set())\nt = time.monotonic()\n"
            f"try:\n    socket.create_connection(('127.0.0.1', {listener.port}), timeout=30)\n"
            "except NetworkRefused as exc:\n    print('refused', round(time.monotonic() - t, 3), exc)\n"
            "try:\n    socket.getaddrinfo('huggingface.co', 443)\n"
            "except socket.gaierror as exc:\n    print('no-dns', exc)\n")
    try:
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                             timeout=120, check=True).stdout
    finally:
        listener.close()
    # refused before any connection (a connect attempt would wait up to its 30 s timeout)
    assert out.startswith("refused ") and float(out.split()[1]) < 10
    assert "network access to 127.0.0.1 refused" in out
    assert "no-dns" in out and "huggingface.co refused" in out
    assert listener.connections == 0


def test_a_task_that_reaches_for_the_network_is_refused(tiny_model: Path, tmp_path: Path) -> None:
    listener = Listener()
    task = write_mc_task(tmp_path / "task", "net_mc", docs=4)
    task.write_text(task.read_text().replace(str(tmp_path / "task" / "net_mc.jsonl"),
                                             f"http://127.0.0.1:{listener.port}/net_mc.jsonl"))
    ctx = review_context(tiny_model, tmp_path / "work", policy_with(tasks={"causal": [str(task)]}))
    try:
        result = EvalStage().run(ctx, quiet_progress("eval"))
    finally:
        listener.close()
    assert result.status == Status.ERRORED
    assert listener.connections == 0
    assert result.evidence["child"]["seconds"] < 60
