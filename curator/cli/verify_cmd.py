"""`curator verify REF` (the deploy gate) and `curator pull REF DIR` (verified, atomic)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from curator.cli.app import app, emit_json, say, workspace
from curator.cli.decide_cmd import RegistryOpt, byte_progress
from curator.core.text import markup

if TYPE_CHECKING:
    from curator.decision.verify import VerifyReport

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


StateDir = Annotated[Path | None, typer.Option(
    "--state-dir", help="Where the TUF client keeps the metadata it trusted, so a later run refuses older "
    "(rolled-back) state (default: the workspace's state/).")]


def _gate(ref: str, registry: str | None, state_dir: Path | None, dest: Path | None, as_json: bool,
          verb: str) -> None:
    """Resolve, run the TUF client workflow, then the gate; exit 0 only if all held."""
    from curator.core.policy import Policy
    from curator.decision.signed_state import root_rules, trusted_state
    from curator.decision.verify import Problem, VerifyReport
    from curator.decision.verify import pull as run_pull
    from curator.decision.verify import verify as run_verify
    from curator.registry import resolve
    from curator.state.client import StateRefused

    ws = workspace()
    policy = Policy.load()
    target, reference = resolve(ref, ws.registry_dir, policy, registry)
    try:
        trusted = trusted_state(target, policy, state_dir or ws.home / "state")
    except StateRefused as exc:
        refused = VerifyReport(target.describe(reference), target.location)
        refused.problems.append(Problem("signed-state", exc.diagnostics()))
        _report(refused, as_json, verb)
        return
    rules = root_rules(trusted.root, policy)  # the team's signed rules, not the deploy copy's
    with byte_progress("pull" if dest else "verify", None, as_json) as on_bytes:
        if dest is None:
            report = run_verify(target, reference, trusted, rules, on_bytes=on_bytes)
        else:
            report = run_pull(target, reference, dest, trusted, rules, on_bytes=on_bytes)
    _report(report, as_json, verb)


@app.command()
def verify(ref: Ref, registry: RegistryOpt = None, as_json: Json = False, state_dir: StateDir = None) -> None:
    """Deploy gate: exit 0 only if the registry holds exactly what the team's signed state approves."""
    _gate(ref, registry, state_dir, None, as_json, "verified")


@app.command()
def pull(
    ref: Ref,
    dest: Annotated[Path, typer.Argument(help="New or empty folder to write the model into.")],
    registry: RegistryOpt = None,
    as_json: Json = False,
    state_dir: StateDir = None,
) -> None:
    """Verify like 'curator verify', writing the files into DIR only if everything holds."""
    _gate(ref, registry, state_dir, dest, as_json, f"written to {dest}")
