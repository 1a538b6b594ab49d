"""`curator rollback NAME [--to REF]`: put an earlier approved artifact back into production."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from curator.cli.app import app, emit_json, say, workspace
from curator.cli.decide_cmd import RegistryOpt
from curator.core.text import markup


@app.command()
def rollback(
    name: Annotated[str, typer.Argument(help="The model's repository name (or hub repo id).")],
    rationale: Annotated[str, typer.Option(help="Why; signed into the rollback decision.")],
    to: Annotated[str | None, typer.Option(
        "--to", help="REF or review id to go back to (default: the one in production before).")] = None,
    key_dir: Annotated[Path | None, typer.Option("--key-dir", help="Key folder (default: workspace keys/).")]
    = None,
    registry: RegistryOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON document on stdout.")] = False,
) -> None:
    """Move the production tag (NAME:prod) back to an approved digest that passes the gate; signed."""
    from curator.attest.keys import FileSigner
    from curator.changes.rollback import rollback as run_rollback
    from curator.changes.rollback import rollback_rationale
    from curator.decision.signed_state import trusted_state
    from curator.registry import open_registry
    from curator.review.session import Session

    rollback_rationale(name, rationale)  # before the key is asked for
    ws = workspace()
    signer = FileSigner(key_dir or ws.keys_dir)
    session = Session.open(ws)
    try:
        target = open_registry(ws.registry_dir, session.policy, registry)
        trusted = trusted_state(target, session.policy, ws.home / "state")
        outcome = run_rollback(session, target, name, signer, trusted,
                               to, rationale)
    finally:
        session.close()
    if as_json:
        emit_json(outcome.to_dict())
        return
    say(f"[bold]rolled back[/] {markup(outcome.ref)} by {markup(outcome.curator.label)}, "
        f"decision {outcome.decision_id}")
    say(f"  now {markup(outcome.to.ref)} ({outcome.to.digest}, review {outcome.to.review_id})")
    say(f"  was {outcome.from_digest}")
    if outcome.from_name and outcome.from_name != outcome.name:
        say(f"  {markup(outcome.from_name)} is no longer in production (its swap is rolled back)")
