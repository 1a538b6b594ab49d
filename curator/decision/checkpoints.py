"""The ledger held to its signed checkpoints in the registry (``curator ledger checkpoint``
makes them; ``curator.changes.checkpoint``).

A checkpoint signs (row count, head hash, first row's hash) with a curator key and is kept
as an OCI artifact under ``<namespace>/curator/ledger-checkpoints`` with the tags ``latest``
and ``rows-<N>``. Tags are mutable, so the ledger also records, in its own chain, every
checkpoint it made: a recorded checkpoint missing from the registry, a ``latest`` behind
the last recorded one or behind the highest ``rows-<N>``, and a ``latest`` the ledger has
no record of (rows after it deleted) all fail, as do rows rewritten or deleted before it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from curator.attest.dsse import MAX_ENVELOPE_BYTES, EnvelopeProblem, verify_envelope
from curator.core.errors import IntegrityError, NotInRegistry
from curator.core.events import CheckpointSigned, Recorded
from curator.ledger.audit import LedgerHead
from curator.ledger.chain import ChainReport
from curator.registry.artifact import DSSE_TYPE, repository_name
from curator.registry.interface import Descriptor, Reference, Registry, parse_json, sha256_digest

if TYPE_CHECKING:
    from curator.core.policy import Policy
    from curator.ledger.base import LedgerBase

PREDICATE_TYPE = "https://curator.dev/attestation/ledger-checkpoint/v1"
ARTIFACT_TYPE = "application/vnd.curator.ledger-checkpoint.v1+json"
REPOSITORY = "curator/ledger-checkpoints"
LATEST = "latest"
#: the ledger event each checkpoint leaves (the row right after the head it signed)
EVENT = CheckpointSigned.KIND
ROWS_TAG = re.compile(r"^rows-([1-9][0-9]{0,17})$")


def checkpoint_repository(policy: Policy) -> str:
    """Where checkpoints live in the registry (under the policy's ``registry.namespace``)."""
    from curator.registry import settings

    return repository_name(REPOSITORY, str(settings(policy).get("namespace", "")))


@dataclass(frozen=True)
class Checkpoint:
    """A signed checkpoint as stored: which rows it covers, and where it is."""

    rows: int
    head: str
    genesis: str
    time: str
    curator: dict[str, Any]
    checkpoint_id: str
    ref: str

    def to_dict(self) -> dict[str, Any]:
        return {"rows": self.rows, "head": self.head, "genesis": self.genesis, "time": self.time,
                "curator": self.curator, "checkpoint_id": self.checkpoint_id, "ref": self.ref}


@dataclass
class CheckpointCheck:
    """The ledger held against its checkpoints. ``ok`` when there is none, recorded or stored."""

    found: bool
    checkpoint: Checkpoint | None = None
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def to_dict(self) -> dict[str, Any]:
        return {"found": self.found, "ok": self.ok, "problems": self.problems,
                **({"checkpoint": self.checkpoint.to_dict()} if self.checkpoint else {})}


def read_checkpoint(registry: Registry, repository: str, trusted: dict[str, Any],
                    tag: str = LATEST) -> Checkpoint | None:
    """The checkpoint at ``tag``, its signature checked; None when there is none.

    Raises IntegrityError when it is there but altered, unsigned or signed by a key nobody trusts.
    """
    try:
        body, _ = registry.get_manifest(repository, tag)
    except NotInRegistry:
        return None
    data = parse_json(body, "ledger checkpoint manifest")
    layers = [d for d in data.get("layers") or [] if isinstance(d, dict) and d.get("mediaType") == DSSE_TYPE]
    if data.get("artifactType") != ARTIFACT_TYPE or len(layers) != 1:
        raise IntegrityError(f"{repository}:{tag} is not a ledger checkpoint", "restore it or sign a new one")
    layer = Descriptor.from_dict(layers[0])
    if layer.size > MAX_ENVELOPE_BYTES:
        raise IntegrityError(f"the checkpoint {layer.digest} is too large", "restore it or sign a new one")
    with registry.open_blob(repository, layer.digest) as chunks:
        envelope = b"".join(chunks)
    if sha256_digest(envelope) != layer.digest:
        raise IntegrityError(f"the checkpoint blob {layer.digest} was altered", "restore it from a backup")
    try:
        verified = verify_envelope(envelope, trusted)
    except EnvelopeProblem as exc:
        raise IntegrityError(f"the checkpoint {repository}:{tag} does not verify ({exc.code}: {exc.message})",
                             "only a trusted curator's checkpoint counts") from exc
    statement = verified.statement
    p = statement.get("predicate") or {}
    if statement.get("predicateType") != PREDICATE_TYPE or not isinstance(p.get("rows"), int):
        raise IntegrityError(f"{repository}:{tag} is signed but is not a ledger checkpoint", "sign a new one")
    if p.get("curator", {}).get("keyid") != verified.signer.keyid:
        raise IntegrityError(f"the checkpoint names {p.get('curator')} but was signed by "
                             f"{verified.signer.identity.label}", "it is forged; sign a new one")
    return Checkpoint(int(p["rows"]), str(p["head"]), str(p.get("genesis", "")), str(p.get("time", "")),
                      dict(p["curator"]), verified.decision_id,
                      registry.describe(Reference(repository, tag=tag)))


def recorded_checkpoints(ledger: LedgerBase, registry: Registry,
                         repository: str) -> list[Recorded[CheckpointSigned]]:
    """The checkpoint events the ledger recorded for this registry, in chain order. Events
    without a ``registry`` field (older curators) are matched by the ref they recorded."""
    found = []
    for row in ledger.read(CheckpointSigned):
        p = row.event
        if (p.registry or registry.location) == registry.location and p.ref == registry.describe(
                Reference(repository, tag=f"rows-{p.rows}")):
            found.append(row)
    return found


def check_ledger(ledger: LedgerBase, registry: Registry, repository: str,
                 trusted: dict[str, Any]) -> CheckpointCheck:
    """Does the ledger still hold its checkpoints' rows, unchanged, and are they all still there?"""
    try:
        checkpoint = read_checkpoint(registry, repository, trusted)
    except IntegrityError as exc:
        return CheckpointCheck(True, None, [exc.diagnostics()])
    events = ledger.events()
    recorded = recorded_checkpoints(ledger, registry, repository)
    check = CheckpointCheck(checkpoint is not None or bool(recorded), checkpoint)
    check.problems += _recorded_still_there(registry, repository, trusted, recorded)
    if recorded and checkpoint is None:
        last = recorded[-1]
        check.problems.append(f"the ledger recorded a checkpoint of {last.event.rows} rows at row {last.seq} "
                              f"but {repository}:{LATEST} is gone from {registry.location}: it was deleted")
    if checkpoint is None:
        return check
    when = f"the checkpoint of {checkpoint.time} by {checkpoint.curator.get('name', '?')}"
    newest = max((r.event.rows for r in recorded), default=0)
    if newest > checkpoint.rows:
        check.problems.append(f"{repository}:{LATEST} covers {checkpoint.rows} rows, but the ledger recorded "
                              f"a later checkpoint of {newest} rows: {LATEST} was moved back")
    highest = _highest_rows_tag(registry, repository)
    if highest > max(checkpoint.rows, newest):
        check.problems.append(f"{repository}:{LATEST} covers {checkpoint.rows} rows, but "
                              f"{repository}:rows-{highest} exists: {LATEST} was moved back")
    by_seq = {int(e["seq"]): e for e in events}
    if len(events) < checkpoint.rows or checkpoint.rows not in by_seq:
        check.problems.append(f"the ledger has {len(events)} rows but {when} signed {checkpoint.rows}: "
                              "rows were deleted")
    elif by_seq[checkpoint.rows]["hash"] != checkpoint.head:
        check.problems.append(f"row {checkpoint.rows} does not hash to the head {when} signed: "
                              "the ledger was rewritten")
    elif events and events[0]["hash"] != checkpoint.genesis:
        check.problems.append(f"the first row is not the one {when} signed: another ledger, or rewritten")
    elif not any(r.event.rows == checkpoint.rows for r in recorded):
        check.problems.append(f"the ledger has no record of {when} ({checkpoint.rows} rows; it records "
                              f"each checkpoint in row {checkpoint.rows + 1}): rows after it were deleted")
    return check


def _recorded_still_there(registry: Registry, repository: str, trusted: dict[str, Any],
                          recorded: list[Recorded[CheckpointSigned]]) -> list[str]:
    problems = []
    for r in recorded:
        tag = f"rows-{r.event.rows}"
        try:
            stored = read_checkpoint(registry, repository, trusted, tag)
        except IntegrityError as exc:
            problems.append(exc.diagnostics())
            continue
        if stored is None:
            problems.append(f"the checkpoint of {r.event.rows} rows the ledger recorded at row {r.seq} "
                            "is gone "
                            f"from {registry.location} ({repository}:{tag} was deleted)")
        elif stored.head != r.event.head:
            problems.append(f"{repository}:{tag} is not the checkpoint the ledger recorded at row {r.seq} "
                            "(another head): it was replaced")
    return problems


def _highest_rows_tag(registry: Registry, repository: str) -> int:
    tags = registry.tag_list(repository) or []
    return max((int(m.group(1)) for t in tags if (m := ROWS_TAG.match(t))), default=0)


@dataclass(frozen=True)
class LedgerCheck:
    """``curator ledger verify`` as data: the chain walk and, when a registry was asked, the
    checkpoints. ``ok`` only when both hold."""

    chain: ChainReport
    checkpoints: CheckpointCheck | None = None
    #: why the ledger disagrees with the head the registry's signed state recorded (None: agrees)
    anchored: str | None = None
    anchor_note: str = ""

    @property
    def ok(self) -> bool:
        return self.chain.ok and (self.checkpoints is None or self.checkpoints.ok) and self.anchored is None

    @property
    def reason(self) -> str:
        """One line saying why it fails ("" when it holds)."""
        if not self.chain.ok:
            return f"the ledger is tampered at row {self.chain.first_bad}: {self.chain.reason}"
        if self.anchored is not None:
            return self.anchored
        if self.checkpoints is not None and not self.checkpoints.ok:
            return "the ledger fails its checkpoints: " + "; ".join(self.checkpoints.problems)
        return ""

    @property
    def head(self) -> LedgerHead:
        return LedgerHead(self.chain.rows, self.chain.head)


def verify_ledger(ledger: LedgerBase, registry: Registry | None = None, repository: str = "",
                  trusted: dict[str, Any] | None = None, anchor: LedgerHead | None = None) -> LedgerCheck:
    """The whole ledger check: the chain (held to ``anchor``, a head recorded outside the ledger,
    e.g. in the signed state), then, with a registry, its checkpoints there."""
    chain = ledger.verify(anchor)
    if not chain.ok or registry is None:
        return LedgerCheck(chain)
    return LedgerCheck(chain, check_ledger(ledger, registry, repository, trusted or {}))
