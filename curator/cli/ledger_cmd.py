"""`curator ledger verify`: walk the hash chain and name the first bad row."""

from __future__ import annotations

from typing import Annotated

import typer

from curator.cli.app import app, emit_json, say, workspace

ledger_app = typer.Typer(help="Inspect the ledger: the workspace's tamper-evident record.",
                         no_args_is_help=True)
app.add_typer(ledger_app, name="ledger")


@ledger_app.command("verify")
def verify(
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON document on stdout.")] = False,
) -> None:
    """Check every event row's hash chain and every stored stage result; exit 1 if tampered."""
    from curator.ledger import open_ledger

    ledger = open_ledger(workspace())
    try:
        report = ledger.verify()
    finally:
        ledger.close()
    if as_json:
        emit_json(report.to_dict())
    elif report.ok:
        say(f"[green]✔[/] ledger intact: {report.rows} rows, head {report.head[:16]}")
    else:
        say(f"[red]✘[/] ledger tampered at row {report.first_bad}: {report.reason}")
    raise typer.Exit(0 if report.ok else 1)
