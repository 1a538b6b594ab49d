"""`curator verify REF` (the deploy gate) and `curator pull REF DIR` (verified, atomic)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from curator.cli.app import app, emit_json, say, workspace
from curator.cli.decide_cmd import RegistryOpt, byte_progress
from curator.core.text import markup

if TYPE_CHECKING:
    from curator.core.policy import Policy
    from curator.core.workspace import Workspace
    from curator.decision.verify import VerifyReport
    from curator.registry.interface import Reference, Registry

Ref = Annotated[str, typer.Argument(
    help="NAME:TAG or NAME@sha256:HEX (configured registry), HOST[:PORT]/NAME:TAG, or oci:DIR:NAME:TAG.")]
Json = Annotated[bool, typer.Option("--json", help="Print one JSON document on stdout.")]


def _report(report: VerifyReport, as_json: bool, verb: str) -> None:
    if as_json:
        emit_json(report.to_dict())
    elif report.ok:
        who = ", ".join(sorted({markup(d["curator"]["name"]) for d in report.decisions}))
        say(f"[green]✔[/] {markup(report.ref)}: approved by {who}; {report.files} file(s), "
            f"{report.bytes / 1e6:.1f} MB {verb} in {report.seconds:.1f}s")
        say(f"  {markup(report.manifest_digest)}")
    else:
        say(f"[red]✘[/] {markup(report.ref)} refused")
        for problem in report.problems:  # a problem quotes registry data (layer titles): never markup
            say(f"  {markup(problem.code)}: {markup(problem.message)}")
    raise typer.Exit(0 if report.ok else 1)


def _explain_retired(ws: Workspace, policy: Policy, target: Registry, reference: Reference,
                     report: VerifyReport) -> None:
    """A tag the quarterly review retired is not just "not-found": say when, who and why."""
    if not reference.tag or [p.code for p in report.problems] != ["not-found"]:
        return
    from curator.decision.verify import Problem
    from curator.ledger import open_ledger
    from curator.quarterly.actions import retirement

    ledger = open_ledger(ws, policy)
    try:
        why = retirement(ledger, target.location, reference.name, reference.tag)
    finally:
        ledger.close()
    if why:
        report.problems[:] = [Problem("retired", f"{reference} was {why}")]


@app.command()
def verify(ref: Ref, registry: RegistryOpt = None, as_json: Json = False) -> None:
    """Deploy gate: exit 0 only if the registry holds exactly what trusted curators approved."""
    from curator.core.policy import Policy
    from curator.decision.rules import DecisionRules
    from curator.decision.verify import trusted_curators
    from curator.decision.verify import verify as run_verify
    from curator.registry import resolve

    ws = workspace()
    policy = Policy.load()
    target, reference = resolve(ref, ws.registry_dir, policy, registry)
    with byte_progress("verify", None, as_json) as on_bytes:
        report = run_verify(target, reference, trusted_curators(ws.keys_dir, policy),
                            DecisionRules.from_policy(policy), on_bytes=on_bytes)
    _explain_retired(ws, policy, target, reference, report)
    _report(report, as_json, "verified")


@app.command()
def pull(
    ref: Ref,
    dest: Annotated[Path, typer.Argument(help="New or empty folder to write the model into.")],
    registry: RegistryOpt = None,
    as_json: Json = False,
) -> None:
    """Verify like 'curator verify', writing the files into DIR only if everything holds."""
    from curator.core.policy import Policy
    from curator.decision.rules import DecisionRules
    from curator.decision.verify import pull as run_pull
    from curator.decision.verify import trusted_curators
    from curator.registry import resolve

    ws = workspace()
    policy = Policy.load()
    target, reference = resolve(ref, ws.registry_dir, policy, registry)
    with byte_progress("pull", None, as_json) as on_bytes:
        report = run_pull(target, reference, dest, trusted_curators(ws.keys_dir, policy),
                          DecisionRules.from_policy(policy), on_bytes=on_bytes)
    _explain_retired(ws, policy, target, reference, report)
    _report(report, as_json, f"written to {dest}")
