"""`curator bom [-o F]`: the inventory as a CycloneDX 1.6 AI-BOM (JSON)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from curator.cli.app import app, emit_json, say, workspace
from curator.cli.inventory_cmd import RegistriesOpt
from curator.cli.report_cmd import write_output
from curator.core.text import markup


def print_diff(diff: dict[str, list[dict[str, Any]]], as_json: bool) -> None:
    """The changes between two BOMs: one JSON document on stdout, or one line each on stderr."""
    from curator.export.bom_diff import summary_lines

    if as_json:
        emit_json(diff)
        return
    lines = summary_lines(diff)
    for line in lines:
        say(markup(line))
    say(f"{len(lines)} change(s)" if lines else "no change between the two BOMs")


@app.command()
def bom(
    output: Annotated[Path | None, typer.Option("-o", "--output", help="Write to this file, not stdout.")]
    = None,
    active: Annotated[bool, typer.Option("--active", help="Leave retired models out.")] = False,
    report_base: Annotated[str, typer.Option(
        "--report-base", help="URL prefix of published approval reports (REVIEW_ID.html is appended).")]
    = "",
    check: Annotated[bool, typer.Option(
        "--validate", help="Also check the BOM against the CycloneDX 1.6 schema (slow on big inventories).")]
    = False,
    diff: Annotated[Path | None, typer.Option(
        "--diff", help="Compare with an earlier BOM (OLD.json): print what changed instead of the BOM.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="With --diff: the changes as one JSON document.")]
    = False,
    registry: RegistriesOpt = None,
) -> None:
    """Write the AI-BOM: one machine-learning-model component per adopted model, with hashes,
    license, supplier, model card, files and their scan verdicts, datasets, base-model pedigree,
    production and change history, and the signed decisions as CycloneDX declarations."""
    from dataclasses import replace

    from curator.cli.inventory_cmd import load_inventory
    from curator.export.bom import render, validate
    from curator.review.session import Session

    old = None
    if diff is not None:
        from curator.export.bom_diff import read_bom

        old = read_bom(diff)  # before any work: a bad file is a usage error

    session = Session.open(workspace())
    try:
        found = load_inventory(session, registry)
    finally:
        session.close()
    if active:
        found = replace(found, entries=tuple(e for e in found.entries if e.status != "retired"))
    text = render(found, report_base)
    if check:
        problems = validate(text)
        if problems:
            say(f"[red]✘[/] the BOM does not validate against CycloneDX 1.6: {markup(problems[0][:500])}")
            raise typer.Exit(1)
        say("[green]✔[/] valid CycloneDX 1.6")
    if old is not None:
        import json

        from curator.export.bom_diff import diff_boms

        if output is not None:
            write_output(text, output, f"the AI-BOM of {len(found.entries)} model(s)")
        print_diff(diff_boms(old, json.loads(text)), as_json)
        return
    write_output(text, output, f"the AI-BOM of {len(found.entries)} model(s)")
