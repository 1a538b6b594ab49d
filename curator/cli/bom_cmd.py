"""`curator bom [-o F]`: the inventory as a CycloneDX 1.6 AI-BOM (JSON)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from curator.cli.app import app, say, workspace
from curator.cli.decide_cmd import RegistryOpt
from curator.cli.report_cmd import write_output
from curator.core.text import markup


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
    registry: RegistryOpt = None,
) -> None:
    """Write the AI-BOM: one machine-learning-model component per adopted model, with hashes,
    license, supplier, model card, base-model pedigree and links to the signed decision."""
    from dataclasses import replace

    from curator.cli.inventory_cmd import load_inventory
    from curator.export.bom import render, validate
    from curator.review.session import Session

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
    write_output(text, output, f"the AI-BOM of {len(found.entries)} model(s)")
