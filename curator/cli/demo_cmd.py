"""`curator demo`: the bundled local hub with sample candidates, reviewed offline."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Annotated, Any

import typer

from curator.cli.app import app, say, workspace
from curator.core.text import markup

if TYPE_CHECKING:
    from pathlib import Path

    from curator.core.models import Candidate
    from curator.core.workspace import Workspace
    from curator.demo.prepare import DemoPreparation


def clean_entry(entries: list[Any]) -> Any:
    """The queue entry meant to pass: the first one (acme-labs' signed release)."""
    return entries[0]


@app.command()
def demo(
    port: Annotated[int, typer.Option(help="Port of the local hub on 127.0.0.1 (0 = any free one).")] = 0,
    no_tui: Annotated[bool, typer.Option(
        "--no-tui", help="Review the clean sample headless and exit (for CI and the README).")] = False,
    as_json: Annotated[bool, typer.Option(
        "--json", help="With --no-tui: one JSON document on stdout.")] = False,
) -> None:
    """Start the local hub with sample candidates and open the review queue; needs no network."""
    from curator.core.errors import UsageError
    from curator.demo.hub import HubServer

    if as_json and not no_tui:
        raise UsageError("--json applies to --no-tui only", "add --no-tui, or drop --json")
    ws = workspace()
    root = ws.home / "demo-hub"
    root.mkdir(parents=True, exist_ok=True)
    try:  # first, so a busy port fails before anything is written
        server = HubServer(root, host="127.0.0.1", port=port)
        server.start()
    except OSError as exc:
        raise UsageError(f"cannot start the demo hub on 127.0.0.1:{port} ({exc.strerror})",
                         "pass --port with a free port, or --port 0") from exc
    try:
        preparation = _prepare(ws, root, server.url)
        entries = preparation.entries()
        if no_tui:
            preparation.run(_SayObserver(quiet=as_json))
            code = _review_headless(ws, clean_entry(entries).candidate, as_json)
            raise typer.Exit(code)
        from curator.tui.app import make_app
        from curator.tui.items import QueueItem

        say(f"demo hub at {server.url} with {len(entries)} queue entries; "
            f"demo policy in {preparation.setup.checklists}")
        from curator.demo.policy import list_curator

        checklists = preparation.setup.checklists
        make_app(ws, queue=[QueueItem(e.candidate, e.description, e.repo_id) for e in entries],
                 preparation=preparation.run, after_key_created=lambda: list_curator(ws, checklists)).run()
    finally:
        server.stop()


def _prepare(ws: Workspace, root: Path, endpoint: str) -> DemoPreparation:
    """The demo policy (written now, and used by this process and its children), and the samples' plan."""
    from curator.core.policy import CHECKLISTS_ENV
    from curator.demo.policy import prepare_policy
    from curator.demo.prepare import DemoPreparation

    setup = prepare_policy(ws)
    os.environ[CHECKLISTS_ENV] = str(setup.checklists)  # the demo's policy, for every command it runs
    return DemoPreparation(ws, root, setup, endpoint)


class _SayObserver:
    """Progress of the headless demo's preparation, on stderr."""

    def __init__(self, quiet: bool) -> None:
        self.quiet = quiet

    def progress(self, line: str) -> None:
        if not self.quiet:
            say(markup(line))

    def ready(self, repo_id: str) -> None:
        pass


def _review_headless(ws: Workspace, candidate: Candidate, as_json: bool) -> int:
    """Like ``curator review ... --headless``: run every stage, print the verdict."""
    from curator.cli.review_cmd import run_headless

    return run_headless(ws, candidate, fresh=True, as_json=as_json)
