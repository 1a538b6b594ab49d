"""`curator demo`: the bundled local hub with sample candidates, reviewed offline."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer

from curator.cli.app import app, say, workspace

if TYPE_CHECKING:
    from pathlib import Path

    from curator.core.models import Candidate
    from curator.core.workspace import Workspace


def clean_sample(samples: list[Any]) -> Any:
    """The sample meant to pass: the first one whose expected recommendation is ``approve``."""
    return next((s for s in samples if s.recommendation == "approve"), samples[0])


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
    from curator.core.models import Candidate
    from curator.demo.hub import HubServer

    if as_json and not no_tui:
        raise UsageError("--json applies to --no-tui only", "add --no-tui, or drop --json")
    ws = workspace()
    _own_root_of_trust(ws)
    root = ws.home / "demo-hub"
    root.mkdir(parents=True, exist_ok=True)
    try:  # first, so a busy port fails before the one-off model conversion
        server = HubServer(root, host="127.0.0.1", port=port)
        server.start()
    except OSError as exc:
        raise UsageError(f"cannot start the demo hub on 127.0.0.1:{port} ({exc.strerror})",
                         "pass --port with a free port, or --port 0") from exc
    try:
        samples = _samples(ws, root, as_json)
    except BaseException:
        server.stop()
        raise
    try:
        candidates = [(Candidate(repo_id=s.repo_id, revision="main", source="hub", endpoint=server.url),
                       s.description) for s in samples]
        if no_tui:
            code = _review_headless(ws, candidates[samples.index(clean_sample(samples))][0], as_json)
            raise typer.Exit(code)
        from curator.tui.app import make_app
        from curator.tui.items import QueueItem

        say(f"demo hub at {server.url} with {len(samples)} sample candidates")
        make_app(ws, queue=[QueueItem(c, d) for c, d in candidates]).run()
    finally:
        server.stop()


def _own_root_of_trust(ws: Workspace) -> None:
    """With a curator key in the workspace, the demo decides and verifies against a root of
    its own (a policy folder in the workspace): see curator/demo/trust.py."""
    import os

    from curator.attest.keys import KEY_FILE, FileSigner
    from curator.core.policy import CHECKLISTS_ENV

    if os.environ.get(CHECKLISTS_ENV) or not (ws.keys_dir / KEY_FILE).is_file():
        return
    from curator.demo.trust import demo_policy

    folder = demo_policy(ws, FileSigner(ws.keys_dir))
    os.environ[CHECKLISTS_ENV] = str(folder)
    say(f"demo policy and root of trust in {folder} (verify with {CHECKLISTS_ENV}={folder})")


def _samples(ws: Workspace, root: Path, quiet: bool) -> list[Any]:
    """Build the sample candidates, the clean one a real small LM when one is installed."""
    from curator.core.errors import UsageError
    from curator.demo.samples import build_samples
    from curator.demo.smollm import demo_real_lm

    real_lm, note = demo_real_lm(ws.cache_dir / "demo-models")
    if not quiet:
        say(note)
    samples = build_samples(root, real_lm)
    if not samples:
        raise UsageError(f"no sample candidates were built in {root}", "remove the folder and try again")
    return samples


def _review_headless(ws: Workspace, candidate: Candidate, as_json: bool) -> int:
    """Like ``curator review ... --headless``: run every stage, print the verdict."""
    from curator.cli.review_cmd import run_headless

    return run_headless(ws, candidate, fresh=True, as_json=as_json)
