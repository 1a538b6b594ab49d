"""The typer app shared by every command module, and the helpers they use."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from curator.core.workspace import Workspace

if TYPE_CHECKING:
    from curator.tui.app import CuratorApp

app = typer.Typer(
    name="curator",
    help="Adopt public ML models into a private registry, with signed, verifiable evidence. "
         "With no command, opens the review queue.",
    invoke_without_command=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
)

_home: Path | None = None


@app.callback()
def _root(
    ctx: typer.Context,
    home: Annotated[Path | None, typer.Option(
        "--home", help="Workspace folder (default: $CURATOR_HOME or the user data dir).",
        envvar="CURATOR_HOME", show_envvar=False)] = None,
) -> None:
    """With no command, open the review queue of the workspace."""
    global _home
    _home = home
    if ctx.invoked_subcommand is None:
        queue_app(workspace()).run()


def queue_app(ws: Workspace) -> CuratorApp:
    """The TUI on the review queue: the reviews already in the workspace's ledger."""
    from curator.tui.app import make_app

    return make_app(ws, queue=[])


def workspace() -> Workspace:
    """The workspace the user chose with --home / CURATOR_HOME."""
    return Workspace.open(_home)


def emit_json(document: object) -> None:
    """``--json``: exactly one JSON document on stdout, nothing else."""
    sys.stdout.write(json.dumps(document, indent=2, sort_keys=False, default=str) + "\n")
    sys.stdout.flush()


def say(message: str) -> None:
    """Human-facing lines go to stderr so stdout stays clean for data.

    ``message`` is Rich markup: callers pass outside text through ``curator.core.text.markup``.
    Control characters are made visible here too, whoever forgot.
    """
    from rich.console import Console

    from curator.core.text import shown

    Console(stderr=True, highlight=False, soft_wrap=True).print(shown(message, keep_newlines=True))
