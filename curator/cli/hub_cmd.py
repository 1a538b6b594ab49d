"""`curator hub serve DIR`: the local HF-compatible hub, for demos and offline tests."""

from __future__ import annotations

import os
import signal
import threading
from pathlib import Path
from typing import Annotated

import typer

from curator.cli.app import app, say
from curator.core.text import markup

hub_app = typer.Typer(name="hub", help="The local HF-compatible hub.", no_args_is_help=True)
app.add_typer(hub_app)


@hub_app.command("serve")
def serve(
    root: Annotated[Path, typer.Argument(
        metavar="DIR", help="Folder whose ORG/NAME/ subfolders are the repos.")],
    port: Annotated[int, typer.Option(help="Port of the hub API (0 = any free one).")] = 0,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    samples: Annotated[bool, typer.Option(
        "--samples", help="Write the demo sample candidates into DIR first.")] = False,
    token: Annotated[list[str] | None, typer.Option(
        help="Bearer token that opens gated and private repos (repeatable; "
             "default $CURATOR_HUB_TOKEN).")] = None,
    page_size: Annotated[int, typer.Option(help="Entries per page of tree listings.")] = 1000,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log every request on stderr.")] = False,
) -> None:
    """Serve DIR like the Hugging Face Hub until Ctrl-C (URL on stderr; use it as HF_ENDPOINT)."""
    from curator.core.errors import UsageError
    from curator.demo.hub import HubServer

    if samples:
        from curator.demo.samples import build_samples

        root.mkdir(parents=True, exist_ok=True)
        for sample in build_samples(root):
            say(f"sample {markup(sample.repo_id)}: {markup(sample.description)}")
    if not root.is_dir():
        raise UsageError(f"hub folder {root} does not exist",
                         "create it with ORG/NAME/ subfolders, or add --samples")
    tokens = token or [t for t in [os.environ.get("CURATOR_HUB_TOKEN")] if t]
    server = HubServer(root, host=host, port=port, tokens=tokens, page_size=page_size, verbose=verbose)
    try:
        server.start()
    except OSError as exc:
        raise UsageError(f"cannot listen on {host}:{port} ({exc.strerror or exc})",
                         "choose another --port, or --port 0 for any free one") from exc
    repos = server.store.repo_ids()
    for repo_id in repos:  # hash plain folders now rather than inside a client's first request
        repo = server.store.repo(repo_id)
        if repo is not None and not repo.published:
            repo.refs()
    say(f"curator hub serving {len(repos)} repos from {root} at {server.url} "
        f"(LFS from {server.blob_url}); Ctrl-C to stop")
    say(f"  HF_ENDPOINT={server.url}")
    stopping = threading.Event()
    # Ctrl-C and SIGTERM both stop cleanly, even where a parent shell set SIGINT to ignored
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stopping.set())
    try:
        while not stopping.wait(0.5):
            pass
    finally:
        server.stop()
    say("hub stopped")
