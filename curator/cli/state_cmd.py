"""`curator state init|rotate|refresh|show|sign`: the registry's signed state (TUF), the team's root,
and the proposals that wait for a second curator's signature."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from curator.cli.app import app, emit_json, say, workspace
from curator.cli.decide_cmd import RegistryOpt
from curator.core.text import markup

if TYPE_CHECKING:
    from curator.attest.keys import Signer
    from curator.core.policy import Policy
    from curator.core.workspace import Workspace
    from curator.registry.interface import Registry
    from curator.state.proposals import Proposal

state_app = typer.Typer(
    help="The registry's signed state: what is approved, retired, rejected and in "
    "production (TUF metadata), and the team's root of trust.",
    no_args_is_help=True,
)
app.add_typer(state_app, name="state")
Json = Annotated[bool, typer.Option("--json", help="Print one JSON document on stdout.")]
KeyDirs = Annotated[
    list[Path] | None,
    typer.Option(
        "--key-dir",
        help="A curator key folder to sign with (repeat for each curator present; "
        "default: the workspace's keys/).",
    ),
]


def _signers(key_dirs: list[Path] | None) -> list[Signer]:
    from curator.attest.keys import FileSigner

    return [FileSigner(d) for d in (key_dirs or [workspace().keys_dir])]


@state_app.command("init")
def init(key_dir: KeyDirs = None, registry: RegistryOpt = None, as_json: Json = False) -> None:
    """Give the registry a signed state: the first root lists checklists/curators.yaml, signed by
    decision.approvals_required of them; root.json is written next to curators.yaml (commit it).
    Where the team already has a root.json, this registry starts from it."""
    from curator.core.policy import Policy
    from curator.decision.signed_state import anchor_path, init_state
    from curator.registry import open_registry

    ws = workspace()
    policy = Policy.load()
    target = open_registry(ws.registry_dir, policy, registry)
    version = init_state(target, policy, _signers(key_dir))
    if as_json:
        emit_json({"registry": target.location, "root_version": version, "anchor": str(anchor_path(policy))})
        return
    say(f"[green]✔[/] signed state started in {markup(target.location)} (root v{version})")
    say(f"  trust anchor {markup(anchor_path(policy))}: commit it to the team's policy repository")


@state_app.command("rotate")
def rotate(key_dir: KeyDirs = None, registry: RegistryOpt = None, as_json: Json = False) -> None:
    """A new root that matches checklists/curators.yaml again (new curators in, revoked keys out),
    signed by enough curators of the old root and of the new one."""
    from curator.core.policy import Policy
    from curator.decision.rules import DecisionRules
    from curator.decision.signed_state import anchor_path, expiry, team
    from curator.registry import open_registry
    from curator.state.client import read_anchor
    from curator.state.roles import rotate_root
    from curator.state.store import StateStore

    ws = workspace()
    policy = Policy.load()
    target = open_registry(ws.registry_dir, policy, registry)
    anchor = anchor_path(policy)
    root = rotate_root(
        StateStore(target),
        read_anchor(anchor),
        team(policy),
        _signers(key_dir),
        DecisionRules.from_policy(policy).approvals_required,
        anchor,
        expiry(policy),
        rules=DecisionRules.from_policy(policy).gate_dict(),
    )
    keyids = sorted(root.signed.roles["targets"].keyids)
    if as_json:
        emit_json({"registry": target.location, "root_version": root.signed.version, "keyids": keyids})
        return
    say(
        f"[green]✔[/] root v{root.signed.version}: {len(keyids)} curator key(s), "
        f"{root.signed.roles['targets'].threshold} signature(s) per change"
    )
    say(f"  trust anchor {markup(anchor)} updated: commit it")


@state_app.command("refresh")
def refresh(key_dir: KeyDirs = None, registry: RegistryOpt = None, as_json: Json = False) -> None:
    """Re-sign the snapshot and timestamp with new expiry (run it from a scheduled job)."""
    from curator.core.policy import Policy
    from curator.decision.signed_state import anchor_path, expiry
    from curator.registry import open_registry
    from curator.state.client import read_anchor
    from curator.state.roles import refresh_state
    from curator.state.store import StateStore

    ws = workspace()
    policy = Policy.load()
    target = open_registry(ws.registry_dir, policy, registry)
    current = refresh_state(
        StateStore(target), read_anchor(anchor_path(policy)), _signers(key_dir), expiry(policy)
    )
    ts = current.timestamp.signed
    if as_json:
        emit_json(
            {"registry": target.location, "timestamp_version": ts.version, "expires": ts.expires.isoformat()}
        )
        return
    say(f"[green]✔[/] timestamp v{ts.version}, valid until {ts.expires.isoformat()}")


@state_app.command("show")
def show(
    registry: RegistryOpt = None,
    as_json: Json = False,
    state_dir: Annotated[Path | None, typer.Option("--state-dir", help="TUF client metadata folder.")] = None,
) -> None:
    """What the registry's signed state says, as the deploy gate reads it (exit 1 if it fails)."""
    from curator.core.policy import Policy
    from curator.decision.signed_state import trusted_state
    from curator.registry import open_registry

    ws = workspace()
    policy = Policy.load()
    target = open_registry(ws.registry_dir, policy, registry)
    trusted = trusted_state(target, policy, state_dir or ws.home / "state")
    state = trusted.state
    proposals = _waiting(ws, policy, target)
    data: dict[str, Any] = {
        "registry": target.location,
        "root_version": trusted.root.version,
        "curators": [
            {"name": c.name, "email": c.email, "keyid": c.keyid} for c in trusted.curators().values()
        ],
        "threshold": trusted.root.roles["targets"].threshold,
        **state.to_dict(),
        "proposals": [p.to_dict() for p in proposals],
    }
    if as_json:
        emit_json(data)
        return
    say(
        f"signed state of {markup(target.location)}: root v{trusted.root.version}, targets v{state.version} "
        f"(until {state.targets.expires.date()}), {data['threshold']} signature(s) per change"
    )
    for c in data["curators"]:
        say(f"  curator {markup(c['name'])} <{markup(c['email'])}> {c['keyid'][:16]}")
    for name, entry in sorted(state.names().items()):
        withdrawn = entry.get("replaced") or entry.get("rolled_back") or {}
        why = (f" ({'replaced by' if entry.get('replaced') else 'rolled back to'} "
               f"{withdrawn.get('by') or withdrawn.get('to')})") if withdrawn else ""
        say(f"  {markup(name)}: production {markup(str(entry.get('production') or '-') + why)}")
    say(
        f"  {len(data['approved'])} approved, {len(data['retired'])} retired, "
        f"{len(data['rejected'])} rejected"
    )
    for kind in ("retired", "rejected"):
        for r in data[kind]:
            say(f"  {kind} {markup(r['name'])}@{r['digest'][:19]}…: {markup(r['why'])} ({markup(r['who'])})")
    for proposal in proposals:
        _say_proposal(proposal)


def _waiting(ws: Workspace, policy: Policy, target: Registry) -> list[Proposal]:
    """The waiting proposals, with who proposed them when where this workspace's ledger says so
    (a deploy workspace without a ledger still lists them)."""
    from curator.decision.cosign import waiting
    from curator.ledger import ledger_url

    if not ws.ledger_path.is_file() and not ledger_url(policy):
        return waiting(target, policy)
    from curator.review.session import Session

    session = Session.open(ws, policy)
    try:
        return waiting(target, policy, session.ledger)
    finally:
        session.close()


def _say_proposal(p: Proposal) -> None:
    who = ", ".join(s["name"] for s in p.signed_by) or "nobody"
    when = f" on {str(p.extra.get('proposed_at'))[:16]}" if p.extra.get("proposed_at") else ""
    flag = " [red]tampered[/]" if p.problem else (" [yellow]stale: propose it again[/]" if p.stale else "")
    say(f"  proposal [bold]{markup(p.id)}[/]: {p.action}, signed by {markup(who)}{markup(when)} "
        f"({len(p.signed_by)} of {p.threshold}), targets v{p.version}{flag}")
    for change in p.changes:
        say(f"    {markup(change.line)}")
    if p.problem:
        say(f"    {markup(p.problem)}")


@state_app.command("sign")
def sign(
    proposal: Annotated[str, typer.Argument(
        help="The proposal: its id as 'curator state show' lists it, the review or decision id it "
        "carries, or NAME@sha256:HEX of the model it changes.")],
    key_dir: Annotated[Path | None, typer.Option("--key-dir", help="Key folder (default: workspace keys/).")]
    = None,
    registry: RegistryOpt = None,
    as_json: Json = False,
) -> None:
    """Co-sign a state change another curator proposed (a retire, a rejection, a rollback): shows what
    it changes, adds this curator's signature and, at the threshold, publishes it and does what it does
    in the registry. Refused (exit 1, nothing signed) when it is stale, tampered or already signed by
    this curator, or when the key is not a curator key of the team's root."""
    from curator.attest.keys import FileSigner
    from curator.core.policy import Policy
    from curator.decision.cosign import co_sign, find
    from curator.registry import open_registry
    from curator.review.session import Session

    ws = workspace()
    policy = Policy.load()
    signer = FileSigner(key_dir or ws.keys_dir)
    target = open_registry(ws.registry_dir, policy, registry)
    session = Session.open(ws, policy)
    try:
        if not as_json:
            _say_proposal(find(session, target, proposal))
        done = co_sign(session, target, proposal, signer)
    finally:
        session.close()
    if as_json:
        emit_json(done.to_dict())
        return
    p = done.published
    if p.published:
        say(f"[green]✔[/] proposal {markup(done.proposal.id)} co-signed by {markup(signer.identity.label)} "
            f"and published as targets v{p.version} ({p.signatures} of {p.threshold} signatures): "
            "the deploy gate "
            "follows it now")
    else:
        say(f"[yellow]![/] proposal {markup(done.proposal.id)} co-signed by {markup(signer.identity.label)}: "
            f"{p.signatures} of {p.threshold} signatures, still waiting")
    if done.done.note:
        say(f"  {markup(done.done.note)}")
