"""`curator ledger verify` (the hash chain, held to the latest signed checkpoint) and
`curator ledger checkpoint` (sign the chain's head into the registry)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from curator.cli.app import app, emit_json, say, workspace
from curator.cli.decide_cmd import RegistryOpt
from curator.core.text import markup

ledger_app = typer.Typer(help="Inspect the ledger: the workspace's tamper-evident record.",
                         no_args_is_help=True)
app.add_typer(ledger_app, name="ledger")
Json = Annotated[bool, typer.Option("--json", help="Print one JSON document on stdout.")]


@ledger_app.command("verify")
def verify(
    as_json: Json = False,
    registry: RegistryOpt = None,
    no_checkpoint: Annotated[bool, typer.Option(
        "--no-checkpoint", help="Check the chain only, not the latest signed checkpoint in the registry.")]
    = False,
) -> None:
    """Check every event row's hash chain, the head it recorded, and that its reviews and stage
    results are the recorded ones; then hold the ledger to its signed checkpoints in the
    registry (rewritten or deleted rows, a deleted or moved-back checkpoint); exit 1 if tampered."""
    from curator.core.policy import Policy
    from curator.ledger import open_ledger

    ws = workspace()
    policy = Policy.load()
    ledger = open_ledger(ws, policy)
    try:
        if no_checkpoint:
            from curator.decision.checkpoints import verify_ledger

            result = verify_ledger(ledger)
        else:
            from curator.decision.recheck import ledger_check

            result = ledger_check(ledger, ws, policy, registry)
    finally:
        ledger.close()
    report, check = result.chain, result.checkpoints
    ok = result.ok
    anchored, anchor_note = result.anchored, result.anchor_note
    if as_json:
        emit_json({**report.to_dict(), "ok": ok, "chain_ok": report.ok,
                   "checkpoint": check.to_dict() if check else None,
                   "signed_state": {"ok": anchored is None, "problem": anchored, "note": anchor_note}})
    elif not report.ok:
        say(f"[red]✘[/] ledger tampered at row {report.first_bad}: {markup(report.reason)}")
    elif anchored is not None:
        say(f"[red]✘[/] ledger chain intact ({report.rows} rows) but {markup(anchored)}")
    elif check is not None and not check.ok:
        say(f"[red]✘[/] ledger chain intact ({report.rows} rows) but it fails its checkpoint: "
            + "; ".join(markup(p) for p in check.problems))
    else:
        say(f"[green]✔[/] ledger intact: {report.rows} rows, head {report.head[:16]}")
        if check is not None and check.checkpoint is not None:
            cp = check.checkpoint
            who = markup(cp.curator.get("name", "?"))
            say(f"  holds the checkpoint of {cp.time} by {who} ({cp.rows} rows)")
        elif check is not None:
            say("  no signed checkpoint yet: 'curator ledger checkpoint' makes one")
        if anchor_note:
            say(f"  {markup(anchor_note)}")
    raise typer.Exit(0 if ok else 1)


@ledger_app.command("checkpoint")
def checkpoint(
    as_json: Json = False,
    registry: RegistryOpt = None,
    key_dir: Annotated[Path | None, typer.Option("--key-dir", help="Key folder (default: workspace keys/).")]
    = None,
) -> None:
    """Sign the ledger's current head with the curator key and store it in the registry."""
    from curator.attest.keys import FileSigner
    from curator.changes.checkpoint import checkpoint_repository, make_checkpoint
    from curator.core.policy import Policy
    from curator.ledger import open_ledger
    from curator.registry import open_registry

    ws = workspace()
    policy = Policy.load()
    signer = FileSigner(key_dir or ws.keys_dir)
    ledger = open_ledger(ws, policy)
    try:
        made = make_checkpoint(ledger, signer, open_registry(ws.registry_dir, policy, registry),
                               checkpoint_repository(policy))
    finally:
        ledger.close()
    if as_json:
        emit_json(made.to_dict())
        return
    say(f"[green]✔[/] checkpoint {made.checkpoint_id}: {made.rows} rows, head {made.head[:16]}, "
        f"signed by {signer.identity.label}")
    say(f"  stored as {markup(made.ref)}")
