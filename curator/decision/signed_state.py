"""The decision services' side of the signed state: every approve, reject, retire, rollback
and production move is a new targets version signed with the curator's key, carrying the
ledger head it was signed at; the deploy gate reads it through the TUF client workflow.

The trust anchor is ``root.json`` in the team's policy folder (next to curators.yaml);
the client's metadata is kept per registry under ``$CURATOR_HOME/state/`` (or
``--state-dir``) for rollback protection across runs.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tuf.api.metadata import Targets

from curator.attest.keys import Signer
from curator.attest.trust import TrustedCurator, load_trusted
from curator.core.clock import utc_now
from curator.core.events import StateSigned
from curator.state import content
from curator.state.client import TrustedState, read_anchor, state_dir_for
from curator.state.client import load_trusted as load_trusted_state
from curator.state.repository import Expiry, Published, cosign, load_current, sign_change
from curator.state.roles import ANCHOR_FILE
from curator.state.roles import init_state as init_registry_state
from curator.state.store import StateStore

if TYPE_CHECKING:
    from tuf.api.metadata import Root

    from curator.core.policy import Policy
    from curator.decision.rules import DecisionRules
    from curator.ledger.base import LedgerBase
    from curator.registry.interface import Registry
    from curator.review.session import Session

Change = Callable[[Targets], None]


def anchor_path(policy: Policy) -> Path:
    """The team's trust anchor: ``root.json`` in the policy folder."""
    return Path(policy.directory) / ANCHOR_FILE


def expiry(policy: Policy) -> Expiry:
    section = policy.section("state")
    base = Expiry()
    return Expiry(
        int(section.get("timestamp_expiry_days", base.timestamp_days)),
        int(section.get("targets_expiry_days", base.targets_days)),
        int(section.get("root_expiry_days", base.root_days)),
    )


def team(policy: Policy) -> list[TrustedCurator]:
    """The team's curators (checklists/curators.yaml), revoked ones included (marked)."""
    return list(load_trusted(Path(policy.directory)).values())


def production_tag(policy: Policy) -> str:
    from curator.decision.rules import DecisionRules

    return DecisionRules.from_policy(policy).production_tag


def init_state(registry: Registry, policy: Policy, signers: Sequence[Signer],
               now: dt.datetime | None = None) -> int:
    """Give ``registry`` a signed state: the first root from curators.yaml (signed by the
    listed curators whose keys are given), written to the policy folder as the trust anchor;
    where the team already has a root (another registry), that root is published as it is.
    Returns the root version. The demo calls this for its own workspace."""
    from curator.decision.rules import DecisionRules

    store = StateStore(registry)
    anchor = anchor_path(policy)
    if anchor.is_file():
        return publish_anchor(store, anchor, signers, expiry(policy), now)
    root = init_registry_state(
        store,
        team(policy),
        signers,
        DecisionRules.from_policy(policy).approvals_required,
        anchor,
        expiry(policy),
        now,
        DecisionRules.from_policy(policy).gate_dict(),
    )
    return root.signed.version


def publish_anchor(
    store: StateStore, anchor: Path, signers: Sequence[Signer], exp: Expiry, now: dt.datetime | None = None
) -> int:
    """Start a registry's state from the team's existing root (the same curators everywhere)."""
    from tuf.api.metadata import Metadata

    from curator.core.errors import UsageError
    from curator.state.repository import now_utc
    from curator.state.roles import publish_first

    if store.get("root.json") is not None:
        raise UsageError(
            f"{store.registry.location} already has a signed state",
            "change who the curators are with 'curator state rotate'",
        )
    now = now or now_utc()
    root = Metadata.from_bytes(read_anchor(anchor))
    publish_first(store, root, signers, exp, now)
    return int(root.signed.version)


def trusted_state(registry: Registry, policy: Policy, state_dir: Path) -> TrustedState:
    """The TUF client workflow against ``registry`` from the team's anchor (StateRefused if not)."""
    return load_trusted_state(
        StateStore(registry),
        read_anchor(anchor_path(policy)),
        state_dir_for(state_dir, registry.location),
        production_tag(policy),
    )


def root_rules(root: Root, policy: Policy) -> DecisionRules:
    """This policy's decision rules with the gate's rules as the team's signed ``root`` holds them
    (the targets threshold is the number of approvals)."""
    from curator.decision.rules import DecisionRules
    from curator.state.roles import RULES_FIELD

    team_dict = root.unrecognized_fields.get(RULES_FIELD) or {}
    return DecisionRules.from_policy(policy).with_team(
        {**(team_dict if isinstance(team_dict, dict) else {}),
         "approvals_required": root.roles["targets"].threshold},
        f"the team's signed root v{root.version}")


def team_rules(registry: Registry, policy: Policy) -> tuple[DecisionRules, dict[str, TrustedCurator]] | None:
    """The decision rules and curators of the team's signed root: the anchor in the policy folder,
    followed through any newer root the registry holds (each signed by the one before, as a TUF
    client walks it); None where the team has no root yet. Only the root counts here, so a
    registry whose targets lag behind a rotation still yields the team's current rules."""
    from curator.state.keys import curator_of

    anchor = anchor_path(policy)
    if not anchor.is_file():
        return None
    root = _root_chain(StateStore(registry), read_anchor(anchor))
    rules = root_rules(root, policy)
    keyids = set(root.roles["targets"].keyids)
    curators = [curator_of(key) for kid, key in root.keys.items() if kid in keyids]
    return rules, {c.keyid: c for c in curators}


def _root_chain(store: StateStore, anchor: bytes) -> Any:
    from tuf.api.exceptions import RepositoryError
    from tuf.api.metadata import Metadata, Root

    from curator.core.errors import CuratorError, IntegrityError
    from curator.state.quorum import verify_quorum

    try:
        md: Metadata[Root] = Metadata[Root].from_bytes(anchor)
        verify_quorum(md.signed, "root", md, ANCHOR_FILE)
    except (RepositoryError, ValueError, KeyError, TypeError) as exc:
        raise IntegrityError(f"the team's root ({ANCHOR_FILE}) does not verify ({exc})",
                             "restore root.json from the team's policy repository") from exc
    while True:
        try:
            data = store.get(f"{md.signed.version + 1}.root.json")
        except CuratorError:
            break  # the registry cannot say more: the anchor is the newest root this curator knows
        if data is None:
            break
        try:
            new: Metadata[Root] = Metadata[Root].from_bytes(data)
            verify_quorum(md.signed, "root", new, f"root v{md.signed.version + 1}")
            verify_quorum(new.signed, "root", new, f"root v{md.signed.version + 1}")
        except (RepositoryError, ValueError, KeyError, TypeError) as exc:
            raise IntegrityError(f"root v{md.signed.version + 1} in {store.registry.location} does not "
                                 f"verify ({exc})", "the signed state is damaged or forged") from exc
        if new.signed.version != md.signed.version + 1:
            break
        md = new
    return md.signed


def current_state(registry: Registry, policy: Policy) -> content.SignedState:
    """The published state as a writer sees it (signatures checked, expiry not)."""
    current = load_current(StateStore(registry), read_anchor(anchor_path(policy)))
    return content.SignedState(current.targets.signed, production_tag(policy))


def ledger_head(ledger: LedgerBase) -> tuple[int, str]:
    report = ledger.verify()
    if not report.ok:
        from curator.core.errors import IntegrityError

        raise IntegrityError(
            f"the ledger is tampered at row {report.first_bad}: {report.reason}",
            "nothing was signed; run 'curator ledger verify'",
        )
    return int(report.rows), str(report.head)


def with_ledger(change: Change, ledger: LedgerBase) -> Change:
    rows, head = ledger_head(ledger)
    where = str(getattr(ledger, "where", ""))

    def apply(targets: Targets) -> None:
        change(targets)
        content.set_ledger_head(targets, rows, head, where)

    return apply


def not_behind(change: Change, ledger: LedgerBase, registry: Registry) -> Change:
    """``change``, refused when the registry serves a targets version older than one this ledger
    saw published there: signed on a replayed timestamp, the next version would overwrite the
    newer one and drop what it said (a retirement, a rejection) for good."""
    seen = seen_published(ledger, registry)

    def apply(targets: Targets) -> None:
        refuse_if_behind(targets.version, seen, registry)
        change(targets)

    return apply


def seen_published(ledger: LedgerBase, registry: Registry) -> int:
    """The newest targets version this ledger saw published in ``registry`` (0: none)."""
    return max((e.event.targets_version for e in ledger.read(StateSigned)
                if e.event.registry == registry.location and e.event.published), default=0)


def refuse_if_behind(version: int, seen: int, registry: Registry) -> None:
    """Refused when ``registry`` serves targets ``version`` older than ``seen`` (a replayed
    timestamp): signed on it, the next version would drop what came after."""
    if version < seen:
        from curator.core.errors import DecisionRefused

        raise DecisionRefused(
            f"the signed state of {registry.location} was rolled back: it serves targets "
            f"v{version}, but the ledger recorded v{seen} published there",
            "nothing was signed; restore the registry's latest timestamp.json (or ask who replayed it)",
        )


def sign_state_change(
    session: Session, registry: Registry, change: Change, signers: Sequence[Signer], proposal_id: str,
    effect: dict[str, Any] | None = None,
) -> Published:
    """Sign ``change`` as the next targets version of ``registry``'s state, and record it (with
    ``effect``: what a co-signer does in the registry once a proposal is published)."""
    published = sign_change(
        StateStore(registry),
        read_anchor(anchor_path(session.policy)),
        not_behind(with_ledger(change, session.ledger), session.ledger, registry),
        signers,
        expiry(session.policy),
        proposal_id,
    )
    _record(session, registry, published, signers, effect)
    return published


def cosign_state_change(
    session: Session, registry: Registry, proposal_id: str, expected: Change | None,
    signers: Sequence[Signer],
    effect: dict[str, Any] | None = None,
) -> Published:
    """Co-sign the proposal ``proposal_id`` if it is exactly ``expected`` (None: as it stands,
    what ``curator state show`` displayed); publish at threshold."""
    published = cosign(
        StateStore(registry),
        read_anchor(anchor_path(session.policy)),
        proposal_id,
        signers,
        expiry(session.policy),
        None if expected is None else not_behind(expected, session.ledger, registry),
    )
    _record(session, registry, published, signers, effect)
    return published


def _record(session: Session, registry: Registry, published: Published, signers: Sequence[Signer],
            effect: dict[str, Any] | None = None) -> None:
    session.ledger.record(StateSigned(
        registry=registry.location,
        targets_version=published.version,
        published=published.published,
        proposal=published.proposal,
        signatures=published.signatures,
        threshold=published.threshold,
        curators=tuple(s.identity.to_dict() for s in signers),
        effect=effect,
    ))


def removal(name: str, digest: str, kind: str, curator: Signer, why: str, policy: Policy) -> Change:
    """A retire or reject of ``name@digest``, signed by ``curator`` now."""
    who, email = curator.identity.name, curator.identity.email
    when = utc_now()
    tag = production_tag(policy)

    def apply(targets: Targets) -> None:
        content.remove(targets, name, digest, kind, who, when, why, tag)
        content.record_signer(targets, name, digest, kind, email)

    return apply


def ledger_against_state(ledger: LedgerBase, registry: Registry, policy: Policy) -> tuple[str | None, str]:
    """Hold the ledger to the head the latest signed state recorded: (problem or None, note).

    A ledger shorter than that head, or one whose row at that position hashes differently,
    was cut or rewritten after a curator signed it into the state."""
    from curator.core.errors import CuratorError

    if not anchor_path(policy).is_file():
        return None, "no trusted root in the policy folder: the ledger is not anchored in a signed state"
    if StateStore(registry).get("root.json") is None:
        # a registry that holds no state at all (e.g. one kept for checkpoints); the deploy gate
        # refuses every model of a registry whose state is gone, so deleting it gains nothing
        return None, f"{registry.location} holds no signed state: the ledger is not anchored there"
    try:
        state = current_state(registry, policy)
    except CuratorError as exc:
        return f"the signed state of {registry.location} cannot be read ({exc.message})", ""
    head = state.ledger
    if not head:
        return None, f"the signed state of {registry.location} records no ledger head yet"
    recorded_where = str(head.get("where", ""))
    if recorded_where and recorded_where != str(getattr(ledger, "where", recorded_where)):
        # a curator with a ledger of their own: the state anchors the ledger that decided last
        return None, f"the signed state records the head of another ledger ({recorded_where})"
    rows, digest = int(head.get("rows", 0)), str(head.get("head", ""))
    events = ledger.events()
    if len(events) < rows:
        return (
            f"the ledger has {len(events)} rows but the signed state (targets v{state.version}) recorded "
            f"{rows}: rows were deleted"
        ), ""
    if rows and events[rows - 1]["hash"] != digest:
        return (
            f"row {rows} of the ledger is not the one the signed state (targets v{state.version}) "
            "recorded: the ledger was rewritten"
        ), ""
    return None, f"holds the signed state's ledger head (targets v{state.version}, {rows} rows)"
