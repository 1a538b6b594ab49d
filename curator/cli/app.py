"""The typer app shared by every command module, and the helpers they use."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from curator.core.workspace import Workspace

app = typer.Typer(
    name="curator",
    help="Adopt public ML models into a private registry, with signed, verifiable evidence.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
)

_home: Path | None = None


@app.callback()
def _root(
    home: Annotated[Path | None, typer.Option(
        "--home", help="Workspace folder (default: $CURATOR_HOME or the user data dir).",
        envvar="CURATOR_HOME", show_envvar=False)] = None,
) -> None:
    global _home
    _home = home


def workspace() -> Workspace:
    """The workspace the user chose with --home / CURATOR_HOME."""
    return Workspace.open(_home)


def emit_json(document: Any) -> None:
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
