"""`curator trust list` and `curator trust forget ORG`: the signers recorded on first use."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from curator.cli.app import app, emit_json, say, workspace
from curator.core.text import markup

if TYPE_CHECKING:
    from curator.attest.keys import Signer
    from curator.review.session import Session

trust_app = typer.Typer(help="Signers trusted on first use: one record per hub endpoint and org.",
                        no_args_is_help=True)
app.add_typer(trust_app, name="trust")
Json = Annotated[bool, typer.Option("--json", help="Print one JSON document on stdout.")]


@trust_app.command("list")
def list_records(as_json: Json = False) -> None:
    """Show each publisher's signer on record (and the signed forgets that reset earlier ones)."""
    from curator.decision.decide import trusted_curator_keys
    from curator.review.session import Session
    from curator.stages.signature.tofu import forgets, records

    session = Session.open(workspace())
    try:
        curators = trusted_curator_keys(session)  # only their signed forgets reset a record
        found = [r.to_dict() for r in sorted(records(session.ledger, curators=curators).values(),
                                             key=lambda r: r.seq)]
        resets = forgets(session.ledger, curators)
    finally:
        session.close()
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
        ignored = f" [yellow]ignored[/]: {markup(f['ignored'])}" if not f["holds"] else ""
        say(f"  forgotten: {markup(f['org'])} at {markup(f['endpoint'])} (row {f['forgotten_seq']}) "
            f"by {markup(who)}, row {f['seq']}{ignored}")


@trust_app.command("forget")
def forget(
    org: Annotated[str, typer.Argument(help="The hub org whose recorded signer to forget.")],
    endpoint: Annotated[str | None, typer.Option(
        "--endpoint", help="The hub the org lives on (default: https://huggingface.co).")] = None,
    key_dir: Annotated[Path | None, typer.Option("--key-dir", help="Key folder (default: workspace keys/).")]
    = None,
    as_json: Json = False,
) -> None:
    """Reset ORG's record (a ledger event signed with your key, which must be a curator key the team
    trusts): its next signer is the first again."""
    from curator.attest.keys import FileSigner
    from curator.review.session import Session
    from curator.stages.signature.tofu import Publisher
    from curator.stages.signature.tofu import forget as forget_record

    ws = workspace()
    signer = FileSigner(key_dir or ws.keys_dir)
    session = Session.open(ws)
    try:
        curators = _refuse_untrusted(session, signer)
        record = forget_record(session.ledger, Publisher.of(endpoint, org), signer, curators)
    finally:
        session.close()
    if as_json:
        emit_json({"forgotten": record.to_dict(), "curator": signer.identity.to_dict()})
        return
    say(f"[green]✔[/] forgot {markup(record.to_dict()['signer_label'])} for "
        f"{markup(record.publisher.label)}, signed by {markup(signer.identity.label)}")


def _refuse_untrusted(session: Session, signer: Signer) -> frozenset[str]:
    """A forget lowers the bar for the publisher's next signer (it becomes the first seen again), so
    only a curator the team trusts may sign one, as for a decision: the team's signed root where
    there is one, else the team's curators.yaml; a key made by 'keys init' alone is nobody."""
    from curator.core.errors import DecisionRefused
    from curator.decision.decide import team_rules_for
    from curator.decision.separation import trusted_person

    rules, trusted = team_rules_for(session)
    curators = frozenset(k for k in trusted if trusted_person(k, trusted) is not None)
    if signer.keyid not in curators:
        raise DecisionRefused(
            f"{signer.identity.label}'s key {signer.keyid[:16]} is not a trusted curator key "
            f"({rules.source}): a signer on record is forgotten only by a curator of the team",
            "ask a curator of the team, or add your key to checklists/curators.yaml and the team's root")
    return curators
