"""Regenerate the TUI screenshots the README shows: ``python scripts/screenshots.py``.

Drives the real app headlessly over the demo samples on the local hub (no network):
queue -> the clean sample's review -> fetch done, and writes ``screenshots/queue.svg`` and
``screenshots/review-fetch.svg``. The workspace is a throw-away temp dir; what would differ
between runs (its path, the hub's port, the review id) is pinned so a rerun only changes
the SVGs when the UI changed.
"""

from __future__ import annotations

import argparse
import asyncio
import errno
import sys
import tempfile
import time
import uuid
from pathlib import Path
from types import SimpleNamespace

ROOT = Path(__file__).resolve().parents[1]
SIZE = (120, 36)
PORT = 28417  # outside Linux's ephemeral range; any free port if taken
HEADER = "workspace ~/.local/share/curator"


async def capture(home: Path, out: Path, port: int) -> list[Path]:
    """Run the app through queue -> review -> fetch and save one SVG per step."""
    from curator.core.models import Candidate
    from curator.core.workspace import Workspace
    from curator.demo.hub import HubServer
    from curator.demo.samples import build_samples
    from curator.tui.app import make_app
    from curator.tui.items import QueueItem
    from curator.tui.screens.review import ReviewScreen

    samples = build_samples(home / "demo-hub")
    try:
        server = HubServer(home / "demo-hub", port=port).start()
    except OSError as exc:
        if exc.errno != errno.EADDRINUSE:
            raise
        server = HubServer(home / "demo-hub").start()
    saved = []
    with server:
        queue = [QueueItem(Candidate(s.repo_id, "main", "hub", endpoint=server.url), s.description)
                 for s in samples]
        app = make_app(Workspace.open(home / "curator"), queue=queue)
        async with app.run_test(size=SIZE) as pilot:
            app.sub_title = HEADER
            await pilot.pause()
            saved.append(out / "queue.svg")
            app.save_screenshot(str(saved[-1]))
            await pilot.press("enter")  # the clean sample is first in the queue
            screen = app.screen
            assert isinstance(screen, ReviewScreen)
            await until(pilot, lambda: screen.review is not None, "the review to open")
            await pilot.press("f")
            await until(pilot, lambda: screen.runs_ended > 0, "fetch to finish")
            app.clear_notifications()
            await pilot.pause()
            saved.append(out / "review-fetch.svg")
            app.save_screenshot(str(saved[-1]))
    return saved


async def until(pilot: object, condition: object, what: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not condition():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise SystemExit(f"screenshots: timed out waiting for {what}")
        await pilot.pause(0.05)  # type: ignore[attr-defined]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "screenshots", help="folder for the SVGs")
    parser.add_argument("--port", type=int, default=PORT, help="port of the demo hub (its URL is shown)")
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    from curator.ledger import sqlite as ledger_sqlite

    # review ids are random; a fixed one keeps reruns from rewriting unchanged pictures
    fixed = SimpleNamespace(uuid4=lambda: uuid.UUID("5eed0000c0ffee000000000000000000"))
    ledger_sqlite.uuid = fixed  # type: ignore[attr-defined,assignment]
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="curator-screenshots-") as tmp:
        for path in asyncio.run(capture(Path(tmp), args.out, args.port)):
            print(f"wrote {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
