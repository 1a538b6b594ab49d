"""`curator trust list` and `curator trust forget ORG`: the signers recorded on first use."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from curator.cli.app import app, emit_json, say, workspace
from curator.core.text import markup

trust_app = typer.Typer(help="Signers trusted on first use: one record per hub endpoint and org.",
                        no_args_is_help=True)
app.add_typer(trust_app, name="trust")
Json = Annotated[bool, typer.Option("--json", help="Print one JSON document on stdout.")]


@trust_app.command("list")
def list_records(as_json: Json = False) -> None:
    """Show each publisher's signer on record (and the signed forgets that reset earlier ones)."""
    from curator.core.policy import Policy
    from curator.ledger import open_ledger
    from curator.stages.signature.tofu import forgets, records

    ws = workspace()
    ledger = open_ledger(ws, Policy.load())
    try:
        found = [r.to_dict() for r in sorted(records(ledger).values(), key=lambda r: r.seq)]
        resets = forgets(ledger)
    finally:
        ledger.close()
    if as_json:
        emit_json({"records": found, "forgotten": resets})
        return
    if not found:
        say("no signer is on record (trust on first use records the first verified signer of an "
            "unlisted publisher)")
    for r in found:
        say(f"{markup(r['org'])} at {markup(r['endpoint'])}: {markup(r['signer_label'])} "
            f"(review {markup(r['review_id'])}, row {r['seq']})")
    for f in resets:
        who = (f.get("curator") or {}).get("name", "?")
        say(f"  forgotten: {markup(f['org'])} at {markup(f['endpoint'])} (row {f['forgotten_seq']}) "
            f"by {markup(who)}, row {f['seq']}")


@trust_app.command("forget")
def forget(
    org: Annotated[str, typer.Argument(help="The hub org whose recorded signer to forget.")],
    endpoint: Annotated[str | None, typer.Option(
        "--endpoint", help="The hub the org lives on (default: https://huggingface.co).")] = None,
    key_dir: Annotated[Path | None, typer.Option("--key-dir", help="Key folder (default: workspace keys/).")]
    = None,
    as_json: Json = False,
) -> None:
    """Reset ORG's record (a ledger event signed with your key): its next signer is the first again."""
    from curator.attest.keys import FileSigner
    from curator.core.policy import Policy
    from curator.ledger import open_ledger
    from curator.stages.signature.tofu import Publisher
    from curator.stages.signature.tofu import forget as forget_record

    ws = workspace()
    signer = FileSigner(key_dir or ws.keys_dir)
    ledger = open_ledger(ws, Policy.load())
    try:
        record = forget_record(ledger, Publisher.of(endpoint, org), signer)
    finally:
        ledger.close()
    if as_json:
        emit_json({"forgotten": record.to_dict(), "curator": signer.identity.to_dict()})
        return
    say(f"[green]✔[/] forgot {markup(record.to_dict()['signer_label'])} for "
        f"{markup(record.publisher.label)}, signed by {markup(signer.identity.label)}")
