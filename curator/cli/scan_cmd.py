"""`curator scan PATH`: the scan stage alone, on any local model file or folder."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Annotated

import typer

from curator.cli.app import app, emit_json, say
from curator.core.errors import UsageError
from curator.core.text import markup

GLYPHS = {"clean": "[green]✓ clean    [/]", "blocked": "[red]✗ blocked  [/]",
          "unscanned": "[yellow]? unscanned[/]"}


@app.command("scan")
def scan(
    path: Annotated[Path, typer.Argument(help="A model file or folder on this machine.")],
    json_out: Annotated[bool, typer.Option("--json", help="Print one JSON document on stdout.")] = False,
) -> None:
    """Scan a local model for anything that runs code when loaded.

    Exit 0 when every file is clean, 1 when any is blocked or unscanned, 2 on bad input.
    """
    from curator.core.policy import Policy
    from curator.core.progress import Progress
    from curator.stages.scan import ScanConfig, files_under, scan_paths

    if not path.exists():
        raise UsageError(f"{path} does not exist", "pass a model file or a model folder")
    config = ScanConfig.from_section(Policy.load().section("scan"))
    files = files_under(path, config)
    if not json_out:
        say(f"scanning {len(files)} file(s) under {markup(path)} ...")
    report = scan_paths(path, files, config, Progress("scan", [], threading.Event()))
    if json_out:
        emit_json({"path": str(path), **report.to_json()})
    else:
        for item in report.files:
            say(f"{GLYPHS[item.verdict.value]} {markup(item.path)}  [dim]({markup(item.format)})[/]")
            for reason in item.reasons[:3]:  # scanners quote the file's own bytes: data, never markup
                say(f"      {markup(reason)}")
        runs = ", ".join(f"{n} {markup(r.version)} ({markup(r.status)})" for n, r in report.runs.items())
        say(f"[dim]scanners: {runs} — {report.seconds:.1f}s[/]")
        say(f"[bold]{markup(report.summary())}[/]")
    raise typer.Exit(0 if all(f.verdict.value == "clean" for f in report.files) else 1)
