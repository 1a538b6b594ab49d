"""`curator` with no command opens the review queue (it used to print help, then a traceback)."""

from __future__ import annotations

import os
import pty
import select
import subprocess
import sys
import time
from pathlib import Path

from curator.cli.app import queue_app
from curator.core.workspace import Workspace
from curator.tui.screens.queue import QueueScreen


async def test_the_queue_app_lists_the_workspace_reviews(tmp_path: Path) -> None:
    app = queue_app(Workspace.open(tmp_path / "home"))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        assert isinstance(app.screen, QueueScreen)
        assert app.screen.queue == []


def _read_until(fd: int, needle: bytes, seconds: float) -> bytes:
    seen = b""
    deadline = time.monotonic() + seconds
    while needle not in seen and time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.2)
        if ready:
            try:
                seen += os.read(fd, 65536)
            except OSError:  # the child closed the terminal
                break
    return seen


def test_curator_alone_opens_the_queue_in_a_terminal_and_q_quits(tmp_path: Path) -> None:
    leader, follower = pty.openpty()
    env = {**os.environ, "CURATOR_HOME": str(tmp_path / "home"), "TERM": "xterm-256color",
           "COLUMNS": "120", "LINES": "40"}
    child = subprocess.Popen([sys.executable, "-m", "curator"], stdin=follower, stdout=follower,
                             stderr=follower, env=env, close_fds=True)
    os.close(follower)
    try:
        screen = _read_until(leader, b"Review queue", 120)
        assert b"Review queue" in screen, screen[-2000:]
        os.write(leader, b"q")
        assert child.wait(timeout=120) == 0
        rest = _read_until(leader, b"Traceback", 1)
        assert b"Traceback" not in screen + rest and b"NoArgsIsHelp" not in screen + rest
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
        os.close(leader)
