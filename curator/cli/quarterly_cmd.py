"""`curator quarterly`: re-check every adopted model; `keep | replace | retire REF` signs the lead's call;
`report` writes the quarter's summary."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from curator.cli.app import app, emit_json, say, workspace
from curator.cli.decide_cmd import RegistryOpt
from curator.cli.report_cmd import write_output
from curator.core.errors import UsageError
from curator.core.text import markup

if TYPE_CHECKING:
    from curator.quarterly.run import ModelResult
    from curator.review.session import Session

quarterly_app = typer.Typer(help="The quarterly review of every adopted model.", invoke_without_command=True)
app.add_typer(quarterly_app, name="quarterly")

Json = Annotated[bool, typer.Option("--json", help="Print one JSON document on stdout.")]
MARK = {"ok": "[green]✔[/]", "warn": "[yellow]![/]", "fail": "[red]✘[/]"}


def _line(n: int, total: int, result: ModelResult) -> None:
    say(f"{MARK[result.outcome]} [{n}/{total}] {markup(result.entry.ref)}: {result.outcome}")
    proposed = result.entry.proposed
    if proposed:
        say(f"    [yellow]{proposed['action']} proposed[/] by {markup(str(proposed['proposed_by']))}, "
            f"waiting for another curator: 'curator state sign {markup(str(proposed['proposal']))}'")
    for check in result.checks:
        if check.outcome not in ("ok", "skipped"):
            say(f"    {check.name} {check.outcome}: {markup(check.message)}")


@quarterly_app.callback()
def quarterly(
    ctx: typer.Context,
    headless: Annotated[bool, typer.Option("--headless", help="Run the checks without the TUI.")] = False,
    as_json: Json = False,
    no_upstream: Annotated[bool, typer.Option("--no-upstream", help="Do not ask any hub for changes.")]
    = False,
    report: Annotated[Path | None, typer.Option(
        "--report", help="Also write the quarterly report (.html or .md) to this file.")] = None,
    bom: Annotated[Path | None, typer.Option(
        "--bom", help="Also write this quarter's AI-BOM (CycloneDX 1.6 JSON) to this file.")] = None,
    bom_since: Annotated[Path | None, typer.Option(
        "--bom-since", help="Last quarter's AI-BOM: print what changed since (with --bom).")] = None,
    registry: RegistryOpt = None,
) -> None:
    """Walk every approved model: re-verify bytes and signatures, re-scan with today's scanners,
    flag age, expired waivers, retired base models and upstream changes. Exit 1 if any model failed."""
    if ctx.invoked_subcommand is not None:
        return
    ws = workspace()
    if not headless and not as_json:
        from curator.tui.app import make_app

        make_app(ws, start="quarterly", registry=registry, upstream=not no_upstream).run()
        return
    from curator.decision.rules import DecisionRules
    from curator.decision.signed_state import trusted_state
    from curator.quarterly.run import run_quarterly
    from curator.registry import open_registry
    from curator.review.session import Session

    session = Session.open(ws)

    try:
        target = open_registry(ws.registry_dir, session.policy, registry)
        run = run_quarterly(session, target, lambda: trusted_state(target, session.policy, ws.home / "state"),
                            DecisionRules.from_policy(session.policy),
                            upstream=False if no_upstream else None, on_model=None if as_json else _line)
        if report is not None:
            _write_report(session, report, run.run_id, registry)
        if bom is not None:
            _write_bom(session, bom, bom_since, registry)
    finally:
        session.close()
    if as_json:
        emit_json(run.to_dict())
    else:
        c = run.counts()
        retired = f", {c['retired']} retired (not checked)" if c["retired"] else ""
        say(f"{c['models']} model(s) checked: {c['ok']} ok, {c['warn']} warn, {c['fail']} fail{retired} "
            f"(run {run.run_id})")
    raise typer.Exit(0 if run.ok else 1)


def _write_report(session: Session, path: Path, run_id: str | None, registry: str | None = None) -> None:
    from curator.cli.inventory_cmd import load_inventory
    from curator.export.quarterly_report import load_summary, render_html, render_md

    summary = load_summary(session.ledger, run_id, load_inventory(session, registry))
    if path.suffix.lower() in (".md", ".markdown"):
        write_output(render_md(summary), path, "the quarterly report")
    else:
        write_output(render_html(summary), path, "the quarterly report")


def _write_bom(session: Session, path: Path, since: Path | None, registry: str | None) -> None:
    from curator.cli.bom_cmd import print_diff
    from curator.cli.inventory_cmd import load_inventory
    from curator.export.bom import render
    from curator.export.bom_diff import diff_boms, read_bom

    old = read_bom(since) if since is not None else None
    text = render(load_inventory(session, registry))
    write_output(text, path, "the quarterly AI-BOM")
    if old is not None:
        import json

        print_diff(diff_boms(old, json.loads(text)), False)


def _act(action: str, ref: str, rationale: str, replacement: str, key_dir: Path | None, registry: str | None,
         as_json: bool) -> None:
    from curator.attest.keys import FileSigner
    from curator.cli.inventory_cmd import load_inventory
    from curator.quarterly.actions import ActionRequest, record_action
    from curator.registry import open_registry
    from curator.review.session import Session

    ws = workspace()
    signer = FileSigner(key_dir or ws.keys_dir)
    session = Session.open(ws)
    try:
        entry = load_inventory(session, registry).find(ref)
        target = open_registry(ws.registry_dir, session.policy, registry)
        outcome = record_action(session, entry, ActionRequest(action, rationale, replacement), signer, target)
    finally:
        session.close()
    if as_json:
        emit_json(outcome.to_dict())
        return
    say(f"[bold]{action}[/] {markup(outcome.ref)} signed by {markup(signer.identity.label)} "
        f"(action {outcome.action_id})")
    if outcome.proposal:
        say(f"  [yellow]retire proposed[/] (proposal {outcome.proposal}), waiting for another curator's "
            f"signature: 'curator state sign {outcome.proposal}'; until then 'curator verify "
            f"{markup(outcome.ref)}' still passes")
    elif outcome.rejection_id:
        tag = "removed" if outcome.tag_removed else "not removed"
        say(f"  signed rejection {outcome.rejection_id} attached; tag {tag}: "
            f"'curator verify {outcome.ref}' now refuses it")
    if outcome.note and not outcome.proposal:
        say(f"  {markup(outcome.note)}")


Rationale = Annotated[str, typer.Option(help="Why; signed into the action.")]
RefArg = Annotated[str, typer.Argument(
    help="The model: REF as 'curator inventory' lists it, or its review id.")]
KeyDir = Annotated[Path | None, typer.Option("--key-dir", help="Key folder (default: workspace keys/).")]


@quarterly_app.command()
def keep(ref: RefArg, rationale: Rationale, key_dir: KeyDir = None, registry: RegistryOpt = None,
         as_json: Json = False) -> None:
    """Keep a model for another period (resets its age clock); refused if the gate no longer passes it."""
    _act("keep", ref, rationale, "", key_dir, registry, as_json)


@quarterly_app.command()
def replace(ref: RefArg, rationale: Rationale,
            replacement: Annotated[str, typer.Option("--with", help="What should replace it.")] = "",
            key_dir: KeyDir = None, registry: RegistryOpt = None, as_json: Json = False) -> None:
    """Ask for a replacement: the model stays deployable but shows as needing re-review."""
    _act("replace", ref, rationale, replacement, key_dir, registry, as_json)


@quarterly_app.command()
def retire(ref: RefArg, rationale: Rationale, key_dir: KeyDir = None, registry: RegistryOpt = None,
           as_json: Json = False) -> None:
    """Retire a model: sign a rejection into the registry and remove its tag; 'curator verify' refuses it."""
    _act("retire", ref, rationale, "", key_dir, registry, as_json)


@quarterly_app.command("report")
def report_command(
    output: Annotated[Path | None, typer.Option("-o", "--output", help="Write to this file, not stdout.")]
    = None,
    fmt: Annotated[str | None, typer.Option(
        "--format", "-f", help="html or md (default: from the -o file's extension, else html).")] = None,
    run_id: Annotated[str | None, typer.Option("--run", help="A run id (default: the latest run).")] = None,
    registry: RegistryOpt = None,
) -> None:
    """The quarterly report: counts, changes since approval, the actions taken since the run, and
    the inventory's production, swaps, rollbacks and retirements."""
    from curator.export.quarterly_report import load_summary, render_html, render_md
    from curator.review.session import Session

    if fmt is None:
        fmt = "md" if output is not None and output.suffix.lower() in (".md", ".markdown") else "html"
    if fmt not in ("html", "md"):
        raise UsageError(f"--format {fmt} is not a quarterly report format", "choose html or md")
    from curator.cli.inventory_cmd import load_inventory

    session = Session.open(workspace())
    try:
        summary = load_summary(session.ledger, run_id, load_inventory(session, registry))
    finally:
        session.close()
    text = render_html(summary) if fmt == "html" else render_md(summary)
    write_output(text, output, "the quarterly report")
