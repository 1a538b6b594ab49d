"""Hostile code standing in for the eval child (round two): each attack named in ``attacks.json``.

Run by the runner as ``python -P -m tests.eval.sandbox_attacks SPEC MSG_FD`` (the tests swap
``runner.CHILD_MODULE``). ``attacks.json`` sits in the review's eval folder, which the child
can read. Reports what each attack got as one ``error`` message, unless the attack is the
message itself. Never part of curator itself.
"""

from __future__ import annotations

import ctypes
import errno
import json
import os
import socket
import sys
from pathlib import Path
from typing import Any

from tests.eval.sandbox_probe import attempt

SYS_SOCKET = 41  # x86_64




def raw_socket(family: int, kind: int = socket.SOCK_STREAM) -> None:
    """socket(2) through syscall(2) with 64-bit arguments: what a native extension can pass."""
    libc = ctypes.CDLL(None, use_errno=True)
    fd = libc.syscall(ctypes.c_long(SYS_SOCKET), ctypes.c_long(family), ctypes.c_long(kind), ctypes.c_long(0))
    if fd < 0:
        raise OSError(ctypes.get_errno(), "socket")
    os.close(fd)


def unix_connect(address: str) -> None:
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(5)
        sock.connect(address)
        sock.sendall(b"hello from the eval child")


def plant(links: dict[str, str]) -> None:
    """Replace files of the scratch folder with symlinks to host paths the parent may follow."""
    for name, target in links.items():
        path = Path(name)
        if path.is_dir() and not path.is_symlink():
            import shutil

            shutil.rmtree(path)
        elif path.exists() or path.is_symlink():
            path.unlink()
        path.symlink_to(target)


def fill(path: str, mb: int) -> str:
    chunk = b"x" * (1 << 20)
    written = 0
    try:
        with open(path, "wb") as out:
            for _ in range(mb):
                out.write(chunk)
                out.flush()
                written += 1
    except OSError as exc:
        return f"refused after {written} MB: {errno.errorcode.get(exc.errno or 0, exc.errno)}"
    finally:
        Path(path).unlink(missing_ok=True)
    return f"done: {written} MB"


def spray(folder: str, files: int, hold_seconds: float) -> str:
    """Many 1 MB files (no single one big), then stay alive: what a per-file cap does not see."""
    import time

    written = 0
    try:
        for i in range(files):
            Path(folder, f"spray-{i}").write_bytes(b"x" * (1 << 20))
            written += 1
    except OSError as exc:
        return f"refused after {written} files: {errno.errorcode.get(exc.errno or 0, exc.errno)}"
    time.sleep(hold_seconds)
    return f"done: {written} files"


def main() -> None:
    targets = json.loads((Path(sys.argv[1]).parent / "attacks.json").read_text())
    channel = int(sys.argv[2])
    report: dict[str, Any] = {}
    for name, arg in targets.items():
        if name == "plant":
            report[name] = attempt(lambda links=arg: plant(links))
        elif name == "socket":
            report.update({f"socket:{family}": attempt(lambda f=family: raw_socket(int(f)))
                           for family in arg})
        elif name == "unix_connect":
            report.update({f"unix:{address!r}": attempt(lambda a=address: unix_connect(a))
                           for address in arg})
        elif name == "fill":
            report.update({f"fill:{path}": fill(path, mb) for path, mb in arg.items()})
        elif name == "spray":
            report[name] = spray(arg["folder"], arg["files"], arg["hold_seconds"])
        elif name == "environ":
            report[name] = dict(os.environ)
        elif name == "stderr":
            sys.stderr.write(arg)
            sys.stderr.flush()
        elif name == "raw_message":  # the message itself is the attack on the parent
            os.write(channel, arg.encode())
            return
    os.write(channel, (json.dumps({"event": "error", "message": json.dumps(report)}) + "\n").encode())


if __name__ == "__main__":
    main()
