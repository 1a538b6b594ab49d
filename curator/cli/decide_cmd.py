"""`curator decide` (signed approve / reject; approve also pushes) and `curator push` (retry)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from curator.cli.app import app, emit_json, say, workspace
from curator.core.errors import UsageError
from curator.core.evidence import FetchEvidence
from curator.core.text import markup

if TYPE_CHECKING:
    from curator.review.session import Session

RegistryOpt = Annotated[str | None, typer.Option(
    "--registry", help="Registry URL (default: $CURATOR_REGISTRY, registry.url, or the workspace layout).")]


@contextmanager
def byte_progress(label: str, total: int | None, quiet: bool) -> Iterator[Callable[[int], None]]:
    """A transfer bar on stderr when it is a terminal; a no-op callback otherwise."""
    from rich import progress as rp
    from rich.console import Console

    console = Console(stderr=True)
    if quiet or not console.is_terminal:
        yield lambda n: None
        return
    with rp.Progress(rp.TextColumn(f"[bold]{label}"), rp.BarColumn(), rp.DownloadColumn(),
                     rp.TransferSpeedColumn(), rp.TimeRemainingColumn(), console=console,
                     transient=True) as bars:
        task = bars.add_task(label, total=total)
        yield lambda n: bars.advance(task, n)


def _waivers(items: list[str]) -> dict[str, str]:
    waivers: dict[str, str] = {}
    for item in items:
        stage, sep, reason = item.partition("=")
        if not sep or not stage.strip():
            raise UsageError(f"--waive '{item}' is not STAGE=REASON",
                             "e.g. --waive eval='no GPU; scores checked by hand'")
        if stage.strip() in waivers:
            raise UsageError(f"--waive {stage.strip()} is given twice", "give one reason per stage")
        waivers[stage.strip()] = reason
    return waivers


@app.command()
def decide(
    review_id: Annotated[str, typer.Argument(help="The review to decide (see 'curator review').")],
    rationale: Annotated[str, typer.Option(help="Why you decide this; signed into the decision.")],
    approve: Annotated[bool, typer.Option(
        "--approve", help="Approve (and push once approvals suffice).")] = False,
    reject: Annotated[bool, typer.Option("--reject", help="Reject.")] = False,
    waive: Annotated[list[str] | None, typer.Option(
        "--waive", help="STAGE=REASON: accept a blocking stage; repeat per stage.")] = None,
    waive_until: Annotated[str | None, typer.Option(
        "--waive-until", help="Expiry of the waivers, YYYY-MM-DD (default: policy waiver_days).")] = None,
    condition: Annotated[list[str] | None, typer.Option(
        "--condition", help="Approve with a condition (signed in); repeatable.")] = None,
    key_dir: Annotated[Path | None, typer.Option("--key-dir", help="Key folder (default: workspace keys/).")]
    = None,
    replaces: Annotated[str | None, typer.Option(
        "--replaces", help="REF of the inventory model this replaces (default: same repo id).")] = None,
    justification: Annotated[str, typer.Option(
        help="A swap: why replacing the inventory model is worth it; signed in.")] = "",
    rollback_plan: Annotated[str, typer.Option(
        "--rollback-plan", help="A swap: how to go back (e.g. 'curator rollback NAME'); signed in.")] = "",
    supersede: Annotated[str, typer.Option(
        "--supersede", help="Approve although a newer review of the repo or a rejection of the same "
        "commit exists: why this one still stands (signed in).")] = "",
    registry: RegistryOpt = None,
    no_push: Annotated[bool, typer.Option("--no-push", help="Record the approval; push later.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON document on stdout.")] = False,
) -> None:
    """Sign a decision on a review; an approval that needs no more curators is pushed."""
    if approve == reject:
        raise UsageError("pass exactly one of --approve or --reject", "see 'curator decide --help'")
    until = None
    if waive_until:
        try:
            until = dt.date.fromisoformat(waive_until)
        except ValueError as exc:
            raise UsageError(f"--waive-until '{waive_until}' is not a date", "use YYYY-MM-DD") from exc
    from curator.attest.keys import FileSigner
    from curator.decision.decide import DecisionRequest
    from curator.decision.decide import decide as run_decision
    from curator.decision.swap import SwapRequest
    from curator.registry import open_registry
    from curator.review.session import Session

    ws = workspace()
    signer = FileSigner(key_dir or ws.keys_dir)
    session = Session.open(ws)
    try:
        target = None if no_push else open_registry(ws.registry_dir, session.policy, registry)
        request = DecisionRequest(review_id, approve, rationale, _waivers(waive or []), until,
                                  tuple(condition or []), SwapRequest(replaces, justification, rollback_plan),
                                  supersede)
        total = _review_bytes(session, review_id)
        with byte_progress("push", total, as_json) as on_bytes:
            outcome = run_decision(session, request, signer, target, on_bytes)
    finally:
        session.close()
    if as_json:
        emit_json(outcome.to_dict())
        return
    say(f"[bold]{outcome.outcome}[/] by {markup(outcome.curator.label)}, decision {outcome.decision_id}")
    if outcome.outcome == "pending":
        say(f"  {outcome.approvals} of {outcome.approvals_required} approvals (rule from "
            f"{markup(outcome.rules_source)}); another curator must approve")
    if outcome.proposal:
        say(f"  [yellow]the signed state's rejection of {markup(outcome.manifest_digest)} is proposed[/]: "
            "it waits "
            f"for another curator ('curator state sign {outcome.proposal}'); the deploy gate admits the "
            "digest until then if it was approved")
    if outcome.ref:
        say(f"  pushed {markup(outcome.ref)}\n  digest {markup(outcome.digest_ref)}")


def _review_bytes(session: Session, review_id: str) -> int | None:
    results = session.ledger.results(review_id)
    fetch = results.get("fetch")
    return FetchEvidence.of(fetch).total_bytes if fetch else None


@app.command()
def push(
    review_id: Annotated[str, typer.Argument(help="An approved review whose push failed or was deferred.")],
    registry: RegistryOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON document on stdout.")] = False,
    key_dir: Annotated[Path | None, typer.Option(
        "--key-dir", help="Key folder signing the registry's state (default: workspace keys/).")] = None,
) -> None:
    """Push an approved review's artifact and signed decision(s) (again), and sign it into that
    registry's state."""
    from curator.attest.keys import FileSigner
    from curator.decision.decide import push_review
    from curator.registry import open_registry
    from curator.review.session import Session

    ws = workspace()
    signer = FileSigner(key_dir or ws.keys_dir)
    session = Session.open(ws)
    try:
        target = open_registry(ws.registry_dir, session.policy, registry)
        with byte_progress("push", _review_bytes(session, review_id), as_json) as on_bytes:
            pushed = push_review(session, review_id, target, on_bytes, signer=signer)
    finally:
        session.close()
    if as_json:
        emit_json({"ref": pushed.ref, "digest_ref": pushed.digest_ref, "digest": pushed.digest,
                   "uploaded_bytes": pushed.uploaded_bytes, "skipped_bytes": pushed.skipped_bytes})
        return
    say(f"pushed {markup(pushed.ref)}\n  digest {markup(pushed.digest_ref)}\n  "
        f"{pushed.uploaded_bytes} bytes sent, {pushed.skipped_bytes} already there")
