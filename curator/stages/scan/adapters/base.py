"""The one interface every external scanner sits behind, and the subprocess runner they share.

Each scanner runs in its own child process with a timeout; whatever happens to that process
(crash, timeout, garbled output) becomes an error on every target it was given, never a pass.
"""

from __future__ import annotations

import abc
import importlib.metadata
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar

from curator.core.evidence.scan import ScannerRun as ScannerRunEvidence
from curator.core.models import Finding, Severity
from curator.stages.scan.config import ScanConfig
from curator.stages.scan.targets import ScanTarget

STDERR_TAIL = 20


@dataclass(frozen=True)
class TargetOutcome:
    """One scanner on one target: its findings, or why it could not read it."""

    findings: tuple[Finding, ...] = ()
    error: str | None = None


@dataclass(frozen=True)
class ScannerRun:
    """One scanner's run over its targets, as evidence: version, exit, timing, per-target outcomes."""

    name: str
    version: str
    status: str  # ok | crashed | timeout | missing | cancelled | idle
    seconds: float = 0.0
    exit_code: int | None = None
    stderr_tail: tuple[str, ...] = ()
    command: tuple[str, ...] = ()
    outcomes: dict[str, TargetOutcome] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)  # target key -> why it was not given
    #: targets of a format this scanner reads (the rest it was given as-is, to catch what it blocks)
    routed: int | None = None

    def evidence(self) -> ScannerRunEvidence:
        return ScannerRunEvidence(self.status, self.version, round(self.seconds, 3), self.exit_code,
                                  tuple(self.stderr_tail), tuple(self.command), len(self.outcomes),
                                  sum(1 for o in self.outcomes.values() if o.error), self.routed)


@dataclass(frozen=True)
class ToolResult:
    exit_code: int | None
    stdout: str
    stderr: str
    seconds: float
    timed_out: bool = False
    cancelled: bool = False

    @property
    def stderr_tail(self) -> tuple[str, ...]:
        lines = (self.stderr or self.stdout).strip().splitlines()
        return tuple(line[:400] for line in lines[-STDERR_TAIL:])


class Scanner(abc.ABC):
    """An external scanner: which target formats it reads, how to run it, how to read its verdict."""

    name: ClassVar[str]
    package: ClassVar[str]  # the distribution whose version is recorded
    entry: ClassVar[str]  # "module:function" to run when the console script is not next to python
    formats: ClassVar[frozenset[str]]

    def __init__(self, config: ScanConfig) -> None:
        self.config = config
        self._version: str | None = None

    def accepts(self, target: ScanTarget) -> str | None:
        """None if this scanner should read ``target``, else why it is not given it.

        Every scanner also gets each candidate file as it is (format ``file``): whatever curator
        decided the file is, what a scanner finds in it reaches the verdict.
        """
        if target.format in self.formats or target.format == "file":
            return None
        return "format not read by this scanner"

    def version(self) -> str:
        """The installed version, read once from package metadata (no subprocess, no import)."""
        if self._version is None:
            if self.name in self.config.scanner_commands:
                self._version = "custom: " + " ".join(self.config.scanner_commands[self.name])
            else:
                try:
                    self._version = importlib.metadata.version(self.package)
                except importlib.metadata.PackageNotFoundError:
                    self._version = "missing"
        return self._version

    def command(self) -> list[str]:
        """The policy's override, else the console script beside this interpreter, else ``python -c``."""
        override = self.config.scanner_commands.get(self.name)
        if override:
            return list(override)
        script = Path(sys.executable).parent / self.name
        if script.exists():
            return [str(script)]
        module, func = self.entry.split(":")
        return [sys.executable, "-c", f"import sys; from {module} import {func}; sys.exit({func}())"]

    def available(self) -> bool:
        return self.version() != "missing"

    @abc.abstractmethod
    def scan(self, targets: list[ScanTarget], workdir: Path, cancelled: Callable[[], bool]) -> ScannerRun:
        """Run over ``targets`` (files under ``workdir`` are this scanner's own) and read the verdicts."""

    # -- shared helpers ------------------------------------------------------------------------
    def run_tool(self, args: list[str], cancelled: Callable[[], bool],
                 env: dict[str, str] | None = None, cwd: Path | None = None) -> ToolResult:
        """Run one child process; kill its whole process group on timeout or cancel."""
        started = time.monotonic()
        deadline = started + self.config.timeout_seconds
        try:
            # a session of its own: on timeout the whole group (the scanner and its children) is killed
            proc = subprocess.Popen([*self._capped(), *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                    stdin=subprocess.DEVNULL, env={**os.environ, **(env or {})}, cwd=cwd,
                                    start_new_session=True)
        except OSError as exc:
            return ToolResult(None, "", f"cannot start {args[0]}: {exc}", 0.0)
        timed_out = stopped = False
        while True:
            try:
                out, err = proc.communicate(timeout=0.2)
                break
            except subprocess.TimeoutExpired:
                timed_out = time.monotonic() > deadline
                stopped = cancelled()
                if timed_out or stopped:
                    _kill_group(proc)
                    out, err = proc.communicate()
                    break
        return ToolResult(None if (timed_out or stopped) else proc.returncode,
                          out.decode("utf-8", "replace"), err.decode("utf-8", "replace"),
                          time.monotonic() - started, timed_out, stopped)

    def _capped(self) -> list[str]:
        """A launcher that caps the child's address space, then becomes the scanner (exec)."""
        cap = self.config.scanner_memory_bytes
        if cap <= 0:
            return []
        return [sys.executable, "-c", "import os, resource, sys\n"
                f"resource.setrlimit(resource.RLIMIT_AS, ({cap}, {cap}))\n"
                "try:\n    os.execvp(sys.argv[1], sys.argv[1:])\n"
                "except OSError as exc:\n    sys.exit(f'cannot start {sys.argv[1]}: {exc}')\n"]

    def failed_run(self, targets: list[ScanTarget], result: ToolResult, args: list[str],
                   why: str) -> ScannerRun:
        """Every target errors: the scanner produced no usable verdict."""
        status = "timeout" if result.timed_out else "cancelled" if result.cancelled else "crashed"
        if result.timed_out:
            why = f"timed out after {self.config.timeout_seconds:.0f}s"
        tail = result.stderr_tail
        message = f"{self.name} {why}" + (f": {tail[-1]}" if tail and not result.timed_out else "")
        return ScannerRun(self.name, self.version(), status, result.seconds, result.exit_code, tail,
                          tuple(args), {t.key: TargetOutcome(error=message) for t in targets})

    def finding(self, target: ScanTarget, severity: Severity, rule: str, level: str,
                text: str) -> Finding:
        """A scanner finding, re-graded by the policy, pinned to the candidate file it came from."""
        graded = self.config.regrade(self.name, rule, level, severity)
        return Finding(graded, f"{self.name}:{rule}", f"{target.label}: {text}", tool=self.name,
                       tool_version=self.version(), file=target.file)


KEY_IN_PATH = re.compile(r"(?:^|[/\\])(t\d{5})[/\\]")


def link_targets(targets: list[ScanTarget], folder: Path) -> dict[str, ScanTarget]:
    """Lay targets out as ``<key>/<link_name>`` symlinks, so name-picky scanners pick the right parser."""
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    keys = {}
    for target in targets:
        (folder / target.key).mkdir()
        (folder / target.key / target.link_name).symlink_to(target.path.resolve())
        keys[target.key] = target
    return keys


def owner(keys: dict[str, ScanTarget], source: str) -> ScanTarget | None:
    """The target a scanner's path (``.../t00003/model.pt:archive/data.pkl``) is about."""
    match = KEY_IN_PATH.search(str(source))
    return keys.get(match.group(1)) if match else None


def _kill_group(proc: subprocess.Popen[bytes]) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        proc.kill()
