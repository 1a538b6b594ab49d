"""The eval child's walls: a bubblewrap sandbox built from exactly what one run needs.

What the child sees: the system's libraries (``/usr`` and its merged-usr links, a few
files of ``/etc``), the Python environment and curator's own code (read-only), the
candidate's pinned files and the task data (read-only), the review's eval scratch folder
and this model's request cache (read-write), and a tmpfs home and ``/tmp``. Nothing else
of the host: no ``$CURATOR_HOME`` (keys, ledger, registry, other reviews), no user home.

It runs in new network (no interfaces up, unless a serving engine must be reached), PID,
IPC and UTS namespaces, in a new session (no terminal injection), with every capability
dropped, a read-only root, and a seccomp filter (``seccomp.py``) that refuses the system
calls an ML workload never needs (ptrace, mount, namespaces, kernel keyrings, bpf, IP
sockets...). It dies with its parent.

What it does not do: limit CPU or memory (the runner's guard does that), hide the
machine's kernel (a kernel bug is still reachable), or vet the Python environment itself.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

KINDS = ("bwrap", "none")
#: host folders every Python program needs, bound read-only where they exist
SYSTEM_DIRS = ("/usr", "/lib", "/lib64", "/lib32", "/bin", "/sbin")
SYSTEM_FILES = ("/etc/ld.so.cache", "/etc/ld.so.conf", "/etc/ld.so.conf.d", "/etc/localtime",
                "/etc/passwd", "/etc/group", "/etc/nsswitch.conf", "/etc/alternatives")
#: the sandbox's own home and temp folder (tmpfs, gone when the child exits)
HOME = "/home/curator-eval"
#: tmpfs sizes in MB: their pages are the machine's memory but not the child's RSS, so the
#: memory guard cannot see them; ``hidden`` is the empty tmpfs masking the workspace
TMPFS_MB = {"/tmp": 1024, "/dev/shm": 256, "home": 64, "hidden": 1}


@dataclass(frozen=True)
class Mounts:
    """What one child may read and write, and whether it keeps the host's network."""

    read_only: tuple[Path, ...] = ()
    writable: tuple[Path, ...] = ()
    share_net: bool = False
    #: folders masked with an empty tmpfs (the workspace home), whatever else was bound above
    #: them; only the mounts inside them (the review's own) are bound again on top
    hidden: tuple[Path, ...] = ()


@dataclass(frozen=True)
class Sandbox:
    """How an eval child is walled in: ``bwrap`` (the default) or ``none`` (the curator's choice)."""

    kind: str
    mounts: Mounts = field(default_factory=Mounts)
    seccomp: bool = True

    def command(self, argv: list[str]) -> tuple[list[str], list[int]]:
        """``argv`` wrapped in the sandbox, and the file descriptors it must inherit."""
        if self.kind == "none":
            return argv, []
        bwrap = bwrap_path()
        if bwrap is None:
            raise FileNotFoundError("bwrap")
        args, fds = _bwrap_args(self.mounts, self.seccomp)
        return [bwrap, *args, "--", *argv], fds

    def evidence(self) -> dict[str, Any]:
        return {"kind": self.kind, "bwrap": bwrap_version() if self.kind == "bwrap" else None,
                "seccomp": self.kind == "bwrap" and self.seccomp,
                "network": "host" if self.mounts.share_net else "none",
                "read_only": [str(p) for p in self.mounts.read_only],
                "writable": [str(p) for p in self.mounts.writable],
                "hidden": [str(p) for p in self.mounts.hidden]}


def bwrap_path() -> str | None:
    return shutil.which("bwrap")


def bwrap_version() -> str | None:
    path = bwrap_path()
    if path is None:
        return None
    try:
        out = subprocess.run([path, "--version"], capture_output=True, text=True, timeout=10).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    return out.strip().removeprefix("bubblewrap ").strip() or None


def python_paths() -> list[Path]:
    """The interpreter, its environment and curator's code: what the child imports from."""
    import curator

    paths = {Path(sys.prefix), Path(sys.base_prefix), Path(sys.exec_prefix), Path(sys.base_exec_prefix),
             Path(os.path.realpath(sys.executable)).parent.parent,
             Path(curator.__file__).resolve().parents[1]}
    return sorted(p for p in paths if p.exists())


def _bwrap_args(mounts: Mounts, seccomp: bool) -> tuple[list[str], list[int]]:
    args = ["--die-with-parent", "--new-session", "--unshare-pid", "--unshare-ipc", "--unshare-uts",
            "--unshare-cgroup-try", "--hostname", "curator-eval", "--cap-drop", "ALL"]
    if not mounts.share_net:
        args.append("--unshare-net")
    for top in SYSTEM_DIRS:
        if os.path.islink(top):
            args += ["--symlink", os.readlink(top), top]
        elif os.path.isdir(top):
            args += ["--ro-bind", top, top]
    for item in SYSTEM_FILES:
        if os.path.exists(item):
            args += ["--ro-bind", item, item]
    if mounts.share_net:  # name resolution for the serving engine's host
        args += [x for f in ("/etc/resolv.conf", "/etc/hosts") if os.path.exists(f)
                 for x in ("--ro-bind", f, f)]
    args += ["--proc", "/proc", "--dev", "/dev", *_tmpfs("/dev/shm", "/dev/shm"), *_tmpfs("/tmp", "/tmp"),
             *_tmpfs(HOME, "home")]
    hidden = [Path(os.path.abspath(h)) for h in mounts.hidden if os.path.isdir(h)]
    read_only = [Path(os.path.abspath(p)) for p in [*python_paths(), *mounts.read_only] if os.path.exists(p)]
    inside = [p for p in read_only if any(p.is_relative_to(h) and p != h for h in hidden)]
    # a source tree or a data folder that holds the workspace is bound, then the workspace masked
    for path in _outermost([p for p in read_only if p not in inside]):
        args += ["--ro-bind", str(path), str(path)]
    for path in hidden:
        args += _tmpfs(str(path), "hidden")
    for path in _outermost(inside):
        args += ["--ro-bind", str(path), str(path)]
    for path in mounts.writable:  # after the read-only ones: a scratch folder inside one stays writable
        args += ["--bind", str(path), str(path)]
    args += ["--remount-ro", "/", "--chdir", "/tmp"]
    fds: list[int] = []
    if seccomp:
        from curator.stages.eval.seccomp import compiled_filter

        fd = compiled_filter(block_ip=not mounts.share_net)
        args += ["--seccomp", str(fd)]
        fds.append(fd)
    return args, fds


def _tmpfs(path: str, size: str) -> list[str]:
    return ["--size", str(TMPFS_MB[size] << 20), "--tmpfs", path]


def _outermost(paths: list[Path]) -> list[Path]:
    """Existing paths with those inside another one dropped (binding both is redundant)."""
    absolute = sorted({Path(os.path.abspath(p)) for p in paths if os.path.exists(p)})
    kept: list[Path] = []
    for path in absolute:
        if not any(path.is_relative_to(k) for k in kept):
            kept.append(path)
    return kept
