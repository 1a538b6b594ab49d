"""Proposals waiting for a co-signature, read as what they would change.

A proposal is a whole targets version, so a co-signer who signs it signs everything in it,
not only the line its proposer meant: what it changes is computed here from the bytes against
the published targets (never from its id or a ledger note), and a change no curator command
makes (an approved model dropped with no retirement or rejection record, a record erased) is
named so the co-signer is refused before anything is signed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from tuf.api.metadata import Metadata, Root, Targets

from curator.core.errors import CuratorError, IntegrityError
from curator.state.content import EXTENSION, REJECTED, RETIRED
from curator.state.keys import curator_of
from curator.state.repository import Current, parse_metadata
from curator.state.store import STATE_REPOSITORY, StateStore

PREFIX, SUFFIX = "proposal.", ".json"
#: changes no curator command signs: co-signing a proposal that holds one is refused
FORBIDDEN = ("dropped", "erased")


@dataclass(frozen=True)
class Change:
    """One thing a proposal changes: ``action`` on ``name@digest``, and its particulars."""

    action: str  # approve | reject | retire | rollback | promote | withdraw | supersede | dropped | erased
    name: str
    digest: str
    detail: str = ""

    @property
    def line(self) -> str:
        return f"{self.action} {self.name}@{self.digest}" + (f": {self.detail}" if self.detail else "")

    def to_dict(self) -> dict[str, str]:
        return {"action": self.action, "name": self.name, "digest": self.digest, "detail": self.detail}


@dataclass(frozen=True)
class Proposal:
    """A waiting targets version: what it changes, who signed it, and whether it can be co-signed."""

    id: str
    version: int
    base: int  # the published targets version it was built on
    changes: tuple[Change, ...]
    signed_by: tuple[dict[str, str], ...]  # name, email, keyid of each valid signature
    threshold: int
    stale: bool  # the state moved on since it was proposed
    problem: str = ""  # tampered, or signed by a key the root does not trust
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def action(self) -> str:
        """The proposal's action in one word (a swap's rollback is ``rollback``)."""
        actions = [c.action for c in self.changes]
        for main in ("approve", "retire", "reject", "rollback", "promote"):
            if main in actions:
                return main
        return actions[0] if actions else "nothing"

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "action": self.action, "targets_version": self.version,
                "base_version": self.base,
                "changes": [c.to_dict() for c in self.changes], "signed_by": list(self.signed_by),
                "signatures": len(self.signed_by), "threshold": self.threshold, "stale": self.stale,
                "problem": self.problem, **self.extra}


def proposal_ids(store: StateStore) -> list[str]:
    """The ids of the proposals stored in the registry (published or not)."""
    tags = store.registry.tag_list(STATE_REPOSITORY) or []
    return sorted(t[len(PREFIX):-len(SUFFIX)] for t in tags if t.startswith(PREFIX) and t.endswith(SUFFIX))


def read_proposal(store: StateStore, proposal_id: str, current: Current) -> Proposal | None:
    """Proposal ``proposal_id`` as it stands against ``current``; None when there is no such
    proposal or it was published already."""
    data = store.get(f"{PREFIX}{proposal_id}{SUFFIX}")
    if data is None:
        return None
    try:
        md: Metadata[Targets] = parse_metadata(data, f"proposal {proposal_id}", Targets)
    except IntegrityError as exc:
        return Proposal(proposal_id, 0, current.targets.signed.version, (), (),
                        current.root.signed.roles["targets"].threshold, False, f"tampered: {exc.message}")
    if _published(store, md):
        return None
    return describe(proposal_id, md, current)


def _published(store: StateStore, md: Metadata[Targets]) -> bool:
    try:
        data = store.get(f"{md.signed.version}.targets.json")
    except CuratorError:
        return False
    if data is None:
        return False
    try:
        return bool(Metadata.from_bytes(data).signed_bytes == md.signed_bytes)
    except (ValueError, KeyError, TypeError):
        return False


def describe(proposal_id: str, md: Metadata[Targets], current: Current) -> Proposal:
    root = current.root.signed
    base = current.targets.signed
    return Proposal(
        proposal_id, md.signed.version, md.signed.version - 1, tuple(changes(base, md.signed)),
        tuple(_signed_by(root, md)), root.roles["targets"].threshold,
        md.signed.version != base.version + 1, _problem(root, md))


def _signed_by(root: Root, md: Metadata[Targets]) -> list[dict[str, str]]:
    result = root.get_verification_result("targets", md.signed_bytes, md.signatures)
    out = []
    for key in result.signed.values():
        who = curator_of(key)
        out.append({"name": who.name, "email": who.email, "keyid": who.keyid})
    return out


def _problem(root: Root, md: Metadata[Targets]) -> str:
    """Why the proposal cannot be co-signed as it is: a signature that does not verify with a
    targets key of the root (altered bytes, or a key the team never trusted), or none at all."""
    result = root.get_verification_result("targets", md.signed_bytes, md.signatures)
    bad = sorted(set(md.signatures) - set(result.signed))
    if bad:
        return (f"tampered: the signature of key {bad[0][:16]} does not verify with a targets key of "
                f"root v{root.version}")
    if not result.signed:
        return "tampered: no curator of the team signed it"
    return ""


def _ext(targets: Targets) -> dict[str, Any]:
    ext = targets.unrecognized_fields.get(EXTENSION)
    return ext if isinstance(ext, dict) else {}


def _split(path: str) -> tuple[str, str]:
    name, _, digest = path.partition("@")
    return name, digest


def changes(before: Targets, after: Targets) -> list[Change]:
    """What ``after`` changes relative to ``before``, in the curator's words."""
    out: list[Change] = []
    old_ext, new_ext = _ext(before), _ext(after)
    added = sorted(set(after.targets) - set(before.targets))
    for path in added:
        custom = after.targets[path].unrecognized_fields.get("custom") or {}
        approvers = ", ".join(str((a or {}).get("name", "?")) for a in custom.get("approvers") or [])
        out.append(Change("approve", *_split(path),
                          f"review {custom.get('review_id', '?')}, approved by {approvers or '?'}"))
    for path in sorted(set(before.targets) - set(after.targets)):
        for kind, action in ((RETIRED, "retire"), (REJECTED, "reject")):
            record = (new_ext.get(kind) or {}).get(path)
            if record and path not in (old_ext.get(kind) or {}):
                by = f"by {record.get('who')} on {str(record.get('when'))[:10]}"
                out.append(Change(action, *_split(path), f"{by}: {record.get('why')}"))
                break
        else:
            out.append(Change("dropped", *_split(path), "leaves the approved set with no retirement or "
                              "rejection record"))
    for kind in (RETIRED, REJECTED):
        for path in sorted(set(old_ext.get(kind) or {}) - set(new_ext.get(kind) or {})):
            if path in (new_ext.get("superseded") or {}):
                why = (new_ext["superseded"][path] or {}).get("reason")
                out.append(Change("supersede", *_split(path), f"the {kind} record is superseded: {why}"))
            else:
                out.append(Change("erased", *_split(path), f"its {kind} record disappears"))
    old_names, new_names = old_ext.get("names") or {}, new_ext.get("names") or {}
    for name in sorted(set(old_names) | set(new_names)):
        was = (old_names.get(name) or {}).get("production")
        now = (new_names.get(name) or {}).get("production")
        if was == now:
            continue
        if now:
            if f"{name}@{now}" in added:
                continue  # an approval moves production: said by its own line
            history = (new_names.get(name) or {}).get("history") or [{}]
            action = "rollback" if history[-1].get("action") == "rollback" else "promote"
            out.append(Change(action, name, str(now), f"production moves from {was or 'nothing'}"))
        elif not any(c.name == name and c.digest == was and c.action in ("retire", "reject") for c in out):
            entry = new_names.get(name) or {}
            why = entry.get("replaced") or entry.get("rolled_back") or {}
            to = why.get("by") or why.get("to") or "nothing"
            out.append(Change("withdraw", name, str(was), f"production withdrawn (now {to})"))
    return out
