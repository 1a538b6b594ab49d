"""Parent side of an eval: start the child, relay its progress, and stay in control.

The child is a fresh interpreter (a spawn, never a fork of the curator process) with an
offline environment and a curator-owned HF_HOME, started inside the sandbox the stage
chose (``sandbox.py``). The parent cancels it (a ``cancel`` line,
then SIGTERM, then SIGKILL), stops it at the wall-clock limit or when its memory passes
the guard, and turns any death into an outcome with the tail of its stderr.

The eval folder is the parent's (spec, stderr log, rendered tasks; read-only to the child);
only its ``scratch`` subfolder is the child's, emptied before each run. The parent never
opens anything the child could have written by its path: the stderr tail is read back
through the parent's own descriptor, and what comes down the pipe is size-capped data.
"""

from __future__ import annotations

import json
import math
import os
import queue
import shutil
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from curator.core.progress import Cancelled, Progress
from curator.stages.eval.sandbox import HOME as SANDBOX_HOME
from curator.stages.eval.sandbox import Sandbox

#: what the child runs: ``python -P -m CHILD_MODULE SPEC MSG_FD``
CHILD_MODULE = "curator.stages.eval.child"
#: the eval folder's only part the child may write
SCRATCH = "scratch"
#: one pipe message at most (a result holds scores and facts, never samples)
MAX_MESSAGE_BYTES = 16 << 20
#: how much of the stderr log's end is read for its tail
TAIL_BYTES = 200_000

POLL_SECONDS = 0.1
#: how often the child's folders on disk are measured (a walk of its scratch and request cache)
DISK_POLL_SECONDS = 1.0
CANCEL_GRACE_SECONDS = 5.0
EXIT_GRACE_SECONDS = 30.0
TAIL_LINES = 20
#: progress-bar noise that tells nothing about why a child died
_NOISE = ("it/s]", "s/it]", "%|")


@dataclass(frozen=True)
class Limits:
    """How long and how big the child may get before the parent stops it."""

    wall_seconds: float
    max_memory_mb: float | None
    #: what the child may write to ``writable`` (host folders, outside every tmpfs size), in MB
    max_disk_mb: float | None = None
    writable: tuple[Path, ...] = ()


@dataclass
class ChildOutcome:
    """How the child ended: ``ok`` with its result, or ``errored`` with why."""

    status: str  # ok | errored
    result: dict[str, Any] = field(default_factory=dict)
    message: str = ""
    stderr_tail: list[str] = field(default_factory=list)
    exit_code: int | None = None
    seconds: float = 0.0
    peak_rss_mb: float = 0.0
    pid: int = 0

    def evidence(self) -> dict[str, Any]:
        return {"pid": self.pid, "exit_code": self.exit_code, "seconds": round(self.seconds, 2),
                "peak_rss_mb": self.peak_rss_mb, "message": self.message,
                "stderr_tail": self.stderr_tail}


def child_env(hf_home: Path, home: Path, datasets_cache: Path | None, sandboxed: bool) -> dict[str, str]:
    """A minimal, offline environment: nothing of the user's HF setup or tokens leaks in.

    In the sandbox, home and temp are the sandbox's own tmpfs folders.
    """
    import curator

    keep = {k: v for k, v in os.environ.items() if k in ("PATH", "LANG", "LC_ALL", "TZ", "TMPDIR")}
    if sandboxed:
        home = Path(SANDBOX_HOME)
        keep["TMPDIR"] = "/tmp"
    env = {
        **keep,
        "HOME": str(home), "XDG_CACHE_HOME": str(home / "cache"),
        "HF_HOME": str(hf_home), "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1",
        "TRANSFORMERS_OFFLINE": "1", "HF_HUB_DISABLE_TELEMETRY": "1", "DO_NOT_TRACK": "1",
        "TOKENIZERS_PARALLELISM": "false", "PYTHONNOUSERSITE": "1", "PYTHONUNBUFFERED": "1",
        "TQDM_MININTERVAL": "2",  # progress reaches the parent by the pipe; keep the log small
        # the child imports curator from wherever this process did (installed or source tree)
        "PYTHONPATH": str(Path(curator.__file__).resolve().parents[1]),
    }
    if datasets_cache is not None:
        env["HF_HUB_CACHE"] = str(datasets_cache / "hub")
        env["HF_DATASETS_CACHE"] = str(datasets_cache / "datasets")
    return env


def rss_mb(pid: int) -> float:
    """Resident memory of a process from /proc (0 where /proc is unavailable)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0.0
    for line in status.splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def tree_rss_mb(pid: int) -> float:
    """Resident memory of a process and all its descendants (the sandbox puts bwrap on top)."""
    parents: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        parents.setdefault(ppid, []).append(int(entry.name))
    total, todo = 0.0, [pid]
    while todo:
        current = todo.pop()
        total += rss_mb(current)
        todo.extend(parents.get(current, []))
    return total


def reset_run_dir(run_dir: Path) -> None:
    """The eval folder ready for a run: links an older child planted in it removed, the rendered
    tasks and the child's scratch folder emptied (a child may have left links there too)."""
    run_dir.mkdir(parents=True, exist_ok=True)
    for entry in run_dir.iterdir():
        if entry.is_symlink():
            entry.unlink()
        elif entry.name in ("tasks", SCRATCH) and entry.is_dir():
            shutil.rmtree(entry)  # never follows links out of the folder
    (run_dir / SCRATCH).mkdir()


def _create(path: Path) -> int:
    """A fresh file the parent owns, opened for reading and writing; never through a link."""
    path.unlink(missing_ok=True)
    return os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)


def stderr_tail(log: int | Path, lines: int = TAIL_LINES) -> list[str]:
    """The last meaningful lines a child wrote, progress bars left out.

    ``log`` is best the parent's own descriptor of the log: a path could have been swapped.
    """
    try:
        fd = log if isinstance(log, int) else os.open(log, os.O_RDONLY | os.O_NOFOLLOW)
        try:
            size = os.fstat(fd).st_size
            text = os.pread(fd, TAIL_BYTES, max(0, size - TAIL_BYTES)).decode("utf-8", errors="replace")
        finally:
            if not isinstance(log, int):
                os.close(fd)
    except OSError:
        return []
    parts = [p.rstrip() for chunk in text.split("\n") for p in chunk.split("\r") if p.strip()]
    kept: list[str] = []
    for part in parts:  # a run of progress-bar redraws keeps only its last state: where it stopped
        if kept and any(n in part for n in _NOISE) and any(n in kept[-1] for n in _NOISE):
            kept[-1] = part
        else:
            kept.append(part)
    return kept[-lines:]


def _read_messages(stream: IO[bytes], sink: queue.Queue[dict[str, Any] | None]) -> None:
    """Each JSON object line onto ``sink``, then None; a line over the cap ends the reading."""
    try:
        while raw := stream.readline(MAX_MESSAGE_BYTES + 1):
            if len(raw) > MAX_MESSAGE_BYTES:
                sink.put({"event": "oversized"})
                return
            try:
                message = json.loads(raw)
            except (ValueError, RecursionError):
                continue
            if isinstance(message, dict):
                sink.put(message)
    finally:
        sink.put(None)


def _stop(proc: subprocess.Popen[bytes], grace: float) -> None:
    """Cooperative first (the child was told to cancel), then terminate, then kill."""
    try:
        proc.wait(timeout=grace)
        return
    except subprocess.TimeoutExpired:
        pass
    for sig, wait in ((signal.SIGTERM, 3.0), (signal.SIGKILL, 10.0)):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            return
        try:
            proc.wait(timeout=wait)
            return
        except subprocess.TimeoutExpired:
            continue


def run_child(spec: dict[str, Any], run_dir: Path, env: dict[str, str], progress: Progress,
              limits: Limits, sandbox: Sandbox) -> ChildOutcome:
    """Run one eval child to its end; raises ``Cancelled`` when the user stopped it."""
    run_dir.mkdir(parents=True, exist_ok=True)
    own = (env.get("HOME"), env.get("XDG_CACHE_HOME")) if sandbox.kind == "none" else ()
    for folder in (*own, env.get("HF_HOME")):
        if folder:
            Path(folder).mkdir(parents=True, exist_ok=True)
    spec_path = run_dir / "spec.json"
    spec_fd = _create(spec_path)
    with os.fdopen(spec_fd, "w", encoding="utf-8") as out:
        out.write(json.dumps(spec, indent=1))
    err = os.fdopen(_create(run_dir / "child.stderr.log"), "w+b")
    (run_dir / SCRATCH).mkdir(exist_ok=True)
    read_fd, write_fd = os.pipe()
    started = time.monotonic()
    # -P: the working folder never shadows a module the child imports
    argv, sandbox_fds = sandbox.command(
        [sys.executable, "-P", "-m", CHILD_MODULE, str(spec_path), str(write_fd)])
    argv = _file_size_cap(limits.max_disk_mb) + argv
    try:
        proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=err, stderr=err, env=env,
                                cwd=str(run_dir / SCRATCH), pass_fds=(write_fd, *sandbox_fds),
                                start_new_session=True)
    except BaseException:
        err.close()
        raise
    finally:
        for fd in (write_fd, *sandbox_fds):
            os.close(fd)
    messages: queue.Queue[dict[str, Any] | None] = queue.Queue()
    reader = threading.Thread(target=_read_messages, args=(os.fdopen(read_fd, "rb"), messages),
                              daemon=True)
    reader.start()
    outcome = ChildOutcome(status="errored", pid=proc.pid)
    try:
        _supervise(proc, messages, progress, limits, outcome, started)
    finally:
        if proc.poll() is None:
            _stop(proc, 0.0)
        if proc.stdin:
            proc.stdin.close()
        reader.join(timeout=2.0)
    outcome.exit_code = proc.returncode
    outcome.seconds = time.monotonic() - started
    with err:
        if outcome.status != "ok":
            outcome.stderr_tail = stderr_tail(err.fileno())
    if outcome.status != "ok" and not outcome.message:
        code = proc.returncode
        how = f"killed by signal {-code}" if code is not None and code < 0 else f"exited with {code}"
        outcome.message = f"the eval child {how} without a result"
    return outcome


def _file_size_cap(max_mb: float | None) -> list[str]:
    """RLIMIT_FSIZE for the child and all it starts, set by util-linux's ``prlimit`` before the
    sandbox starts (no ``preexec_fn``: forking with one is unsafe from the TUI's threads): no one
    file it writes outgrows the disk cap (the write fails with EFBIG; Python ignores SIGXFSZ).
    Many files are ``written_mb``'s job."""
    if not max_mb:
        return []
    prlimit = shutil.which("prlimit")
    if prlimit is None:
        raise FileNotFoundError("prlimit (util-linux) caps the eval child's file sizes: install util-linux")
    cap = int(max_mb * (1 << 20))
    return [prlimit, f"--fsize={cap}:{cap}", "--"]


def written_mb(folders: tuple[Path, ...], max_entries: int = 1_000_000) -> float:
    """Megabytes of regular files under ``folders`` (links not followed); a tree of more than
    ``max_entries`` entries counts as infinite (inodes fill a disk too)."""
    total, entries = 0, 0
    stack = [str(f) for f in folders]
    while stack:
        try:
            with os.scandir(stack.pop()) as listing:
                for entry in listing:
                    entries += 1
                    if entries > max_entries:
                        return math.inf
                    if entry.is_dir(follow_symlinks=False):
                        stack.append(entry.path)
                    elif entry.is_file(follow_symlinks=False):
                        total += entry.stat(follow_symlinks=False).st_blocks * 512
        except OSError:
            continue  # a folder the child removed meanwhile
    return total / (1 << 20)


def _supervise(proc: subprocess.Popen[bytes], messages: queue.Queue[dict[str, Any] | None],
               progress: Progress, limits: Limits, outcome: ChildOutcome, started: float) -> None:
    done = 0.0
    cancel_sent = False
    disk_checked = 0.0
    while True:
        try:
            message = messages.get(timeout=POLL_SECONDS)
        except queue.Empty:
            message = {}
        if message is None:  # the pipe closed: the child is gone
            proc.wait()
            return
        event = message.get("event")
        if event == "progress":
            counts = _counts(message)
            if counts is None:
                _stop(proc, 0.0)
                outcome.message = f"the eval child sent an unreadable progress message: {str(message)[:200]}"
                return
            if counts[1] != progress.total:
                progress.set_total(counts[1], unit="requests")
            progress.advance(counts[0] - done, "requests")
            done = counts[0]
        elif event == "oversized":
            _stop(proc, 0.0)
            outcome.message = (f"the eval child sent a message larger than {MAX_MESSAGE_BYTES >> 20} MB "
                               "and was stopped")
            return
        elif event == "phase":
            progress.advance(0, str(message.get("detail", "")))
        elif event == "result":
            problem = result_problem(message)
            if problem:
                _stop(proc, 0.0)
                outcome.message = f"the eval child sent a malformed result ({problem}) and was stopped"
                return
            outcome.status, outcome.result = "ok", message
            _stop(proc, EXIT_GRACE_SECONDS)  # it has nothing more to say; don't wait on a stuck exit
            return
        elif event == "error":
            outcome.message = str(message.get("message", ""))[:4000]
        elif event == "cancelled":
            _stop(proc, CANCEL_GRACE_SECONDS)
            raise Cancelled(progress.stage)
        outcome.peak_rss_mb = max(outcome.peak_rss_mb, round(tree_rss_mb(proc.pid), 1))
        if progress.cancelled and not cancel_sent:
            cancel_sent = True
            _tell(proc, "cancel")
            _stop(proc, CANCEL_GRACE_SECONDS)
            raise Cancelled(progress.stage)
        if time.monotonic() - started > limits.wall_seconds:
            _stop(proc, 0.0)
            outcome.message = (f"the eval took longer than the {limits.wall_seconds:.0f}s wall-clock "
                               "limit (eval.timeout_seconds) and was stopped")
            return
        if limits.max_disk_mb and limits.writable and time.monotonic() - disk_checked >= DISK_POLL_SECONDS:
            disk_checked = time.monotonic()
            used = written_mb(limits.writable)
            if used > limits.max_disk_mb:
                _stop(proc, 0.0)
                outcome.message = (f"the eval child wrote {used:.0f} MB to its folders on disk, over the "
                                   f"cap of {limits.max_disk_mb:.0f} MB (eval.max_disk_mb), and was stopped")
                return
        if limits.max_memory_mb and outcome.peak_rss_mb > limits.max_memory_mb:
            _stop(proc, 0.0)
            outcome.message = (f"the eval child used {outcome.peak_rss_mb:.0f} MB, over the memory guard "
                               f"of {limits.max_memory_mb:.0f} MB (eval.max_memory_mb), and was stopped")
            return


#: what the stage reads of a result, by key: the JSON type each must have
_RESULT_TYPES: dict[str, type | tuple[type, ...]] = {
    "rows": list, "unavailable": list, "task_sources": dict, "versions": dict, "model_info": dict,
    "requests": dict, "cache_entries": dict, "load_seconds": (int, float), "peak_rss_mb": (int, float)}
_ROW_TYPES: dict[str, type | tuple[type, ...]] = {
    "task": str, "run": str, "metrics": dict, "n_shot": (int, type(None)),
    "version": (int, float, str, type(None)),
    "output_type": (str, type(None)), "task_hash": (str, type(None))}


def result_problem(result: dict[str, Any]) -> str | None:
    """What makes a child's result unfit for the stage to read, or None: the child is not trusted."""
    for key, kind in _RESULT_TYPES.items():
        if key in result and not isinstance(result[key], kind):
            return f"{key} is not a {_name(kind)}"
    for row in result.get("rows", []):
        if not isinstance(row, dict):
            return "a row is not an object"
        for key, kind in _ROW_TYPES.items():
            if key in ("task", "run", "metrics") and key not in row:
                return f"a row has no {key}"
            if key in row and not isinstance(row[key], kind):
                return f"a row's {key} is not a {_name(kind)}"
        for name, value in row["metrics"].items():
            if isinstance(value, bool) or not isinstance(value, int | float | str | None):
                return f"metric {str(name)[:40]!r} is not a number"
            if isinstance(value, float) and not math.isfinite(value):  # NaN agrees with every claim
                return f"metric {str(name)[:40]!r} is not a finite number"
    for item in result.get("unavailable", []):
        if not (isinstance(item, dict) and isinstance(item.get("task"), str)
                and isinstance(item.get("reason"), str)):
            return "an unavailable task is not {task, reason}"
    if not all(isinstance(v, dict) for v in result.get("task_sources", {}).values()):
        return "a task source is not an object"
    return None


def _name(kind: type | tuple[type, ...]) -> str:
    return " or ".join(k.__name__ for k in (kind if isinstance(kind, tuple) else (kind,)))


def _counts(message: dict[str, Any]) -> tuple[float, float] | None:
    """A progress message's (done, total), or None when they are not finite numbers."""
    try:
        done, total = float(message["done"]), float(message["total"])
    except (KeyError, TypeError, ValueError):
        return None
    return (done, total) if math.isfinite(done) and math.isfinite(total) else None


def _tell(proc: subprocess.Popen[bytes], line: str) -> None:
    try:
        if proc.stdin:
            proc.stdin.write((line + "\n").encode())
            proc.stdin.flush()
    except (BrokenPipeError, OSError):
        pass
