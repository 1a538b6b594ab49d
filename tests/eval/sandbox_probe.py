"""Stands in for the eval child inside the same sandbox: tries the walls, reports what held.

Run by the runner as ``python -P -m tests.eval.sandbox_probe SPEC MSG_FD`` (the tests swap
``runner.CHILD_MODULE``). Its targets come from ``probe.json`` the test put in the scratch
folder beside the spec. Never part of curator itself.
"""

from __future__ import annotations

import ctypes
import errno
import json
import os
import socket
import struct
import sys
from pathlib import Path
from typing import Any


def attempt(action: Any) -> str:
    try:
        action()
    except OSError as exc:
        return f"refused: {errno.errorcode.get(exc.errno or 0, exc.errno)}"
    return "done"


def libc_connect(port: int) -> None:
    """Below Python's socket module: the plain libc calls a native extension would make."""
    libc = ctypes.CDLL(None, use_errno=True)
    fd = libc.socket(socket.AF_INET, socket.SOCK_STREAM, 0)
    if fd < 0:
        raise OSError(ctypes.get_errno(), "socket")
    # struct sockaddr_in: family in host order, port in network order, address, padding
    address = struct.pack("=H", socket.AF_INET) + struct.pack("!H", port) + socket.inet_aton("127.0.0.1")
    address += bytes(8)
    if libc.connect(fd, address, len(address)) != 0:
        raise OSError(ctypes.get_errno(), "connect")


def write(path: str) -> None:
    Path(path).write_text("written from inside the eval child")


def main() -> None:
    targets = json.loads((Path(sys.argv[1]).parent / "probe.json").read_text())
    port = int(targets["port"])
    report = {
        "read_key": attempt(lambda: Path(targets["key"]).read_bytes()),
        "list_home": sorted(os.listdir(targets["home"])) if os.path.isdir(targets["home"]) else [],
        "python_connect": attempt(lambda: socket.create_connection(("127.0.0.1", port), timeout=5)),
        "libc_connect": attempt(lambda: libc_connect(port)),
        **{f"write:{name}": attempt(lambda p=path: write(p)) for name, path in targets["writes"].items()},
        "ptrace": "refused" if ctypes.CDLL(None, use_errno=True).ptrace(16, 1, 0, 0) != 0 else "done",
    }
    line = json.dumps({"event": "error", "message": json.dumps(report)}) + "\n"
    os.write(int(sys.argv[2]), line.encode())


if __name__ == "__main__":
    main()
