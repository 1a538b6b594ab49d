"""`curator hub serve DIR`: the local HF-compatible hub, for demos and offline tests."""

from __future__ import annotations

import os
import signal
import threading
from pathlib import Path
from typing import Annotated

import typer

from curator.cli.app import app, say, workspace
from curator.core.text import markup

hub_app = typer.Typer(name="hub", help="The local HF-compatible hub.", no_args_is_help=True)
app.add_typer(hub_app)

FOLDER_FORMAT = """\b
Folder format: DIR holds one folder per repo, ORG/NAME/, in one of two forms.
- plain: ORG/NAME/ holds the model's files as they are (subfolders too),
  served as one commit on 'main' whose id is a hash of the files.
- published: ORG/NAME/.hub/ holds history written by 'curator hub publish':
  refs.json (branches, tags), commits/SHA.json (each commit's tree) and
  blobs/SHA256 (the bytes).
Symlinks are never served; .git/ and .cache/ are skipped. Weights
(*.safetensors, *.bin, ...) and files of 10 MiB or more are LFS files,
served from a second port as the Hub's CDN does."""


@hub_app.command("publish")
def publish(
    folder: Annotated[Path, typer.Argument(metavar="DIR", help="The model folder to publish.")],
    repo_id: Annotated[str, typer.Argument(metavar="ORG/NAME", help="The repo to add a commit to.")],
    branch: Annotated[str, typer.Option(help="Branch the commit goes on (moved to it).")] = "main",
    tag: Annotated[list[str] | None, typer.Option(help="Tag for the new commit (repeatable).")] = None,
    message: Annotated[str, typer.Option(help="Commit message.")] = "",
    hub: Annotated[Path | None, typer.Option(
        "--hub", help="The hub folder (default: the demo hub of the workspace, HOME/demo-hub).")] = None,
) -> None:
    """Add a commit holding exactly DIR's files to ORG/NAME in the local hub (served at once)."""
    from curator.core.errors import UsageError
    from curator.demo.store import HubStore, valid_repo_id

    root = hub or workspace().home / "demo-hub"
    if not valid_repo_id(repo_id):
        raise UsageError(f"'{repo_id}' is not a repo id", "pass ORG/NAME (letters, digits, '.', '_', '-')")
    files = _model_files(folder)
    store = HubStore(root)
    existing = store.repo(repo_id)
    if existing is not None and not existing.published:
        raise UsageError(f"{repo_id} in {root} is a plain folder, which has no history to add to",
                         "publish under another ORG/NAME, or move the folder out of the hub")
    try:
        sha = store.publish(repo_id, files, branch=branch, tags=tag or (), message=message)
    except ValueError as exc:
        raise UsageError(f"cannot publish {folder} as {repo_id}: {exc}",
                         "fix the name and try again") from exc
    tags = f" tagged {', '.join(tag)}" if tag else ""
    say(f"published {len(files)} files from {markup(folder)} to {markup(repo_id)} on {markup(branch)}{tags}: "
        f"commit {sha}")
    typer.echo(sha)


def _model_files(folder: Path) -> dict[str, Path]:
    """Every regular file under ``folder`` by repo path; symlinks and .git/.hub/.cache refused or skipped."""
    from curator.core.errors import UsageError
    from curator.demo.store import SKIPPED_DIRS

    if not folder.is_dir():
        raise UsageError(f"{folder} is not a folder", "pass the model's folder")
    files: dict[str, Path] = {}
    for path in sorted(folder.rglob("*")):
        rel = path.relative_to(folder)
        if rel.parts[0] in SKIPPED_DIRS:
            continue
        if path.is_symlink():
            raise UsageError(f"{path} is a symlink, which the hub never serves",
                             "replace it with the file it points to, or remove it")
        if path.is_file():
            files[rel.as_posix()] = path
    if not files:
        raise UsageError(f"{folder} holds no files to publish", "pass a model folder")
    return files


@hub_app.command("serve", epilog=FOLDER_FORMAT)
def serve(
    root: Annotated[Path, typer.Argument(
        metavar="DIR", help="Folder whose ORG/NAME/ subfolders are the repos (format below).")],
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
