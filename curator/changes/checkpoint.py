"""Signed ledger checkpoints: the chain's head, signed by a curator, kept in the registry.

The hash chain catches an edited row, but not a ledger rewritten from some row on with
freshly computed hashes, nor its last rows deleted. A checkpoint closes both: it signs
(row count, head hash, first row's hash) with the curator key as a DSSE envelope, and
stores it as an OCI artifact in the registry (the workspace's layout, or the remote
registry), under ``<namespace>/curator/ledger-checkpoints`` with the tags ``latest`` and
``rows-<N>``. Anyone holding the registry and the team's keys can then tell whether a
ledger still holds the checkpointed rows unchanged. One registry namespace serves one
ledger (a team shares both); the first row's hash tells ledgers apart.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from curator.attest.dsse import (
    MAX_ENVELOPE_BYTES,
    EnvelopeProblem,
    decision_id,
    sign_statement,
    verify_envelope,
)
from curator.attest.keys import Signer
from curator.attest.statement import in_toto_statement
from curator.core.clock import utc_now
from curator.core.errors import IntegrityError, NotInRegistry, UsageError
from curator.registry.artifact import DSSE_TYPE, repository_name
from curator.registry.interface import (
    EMPTY_JSON,
    EMPTY_TYPE,
    MANIFEST_TYPE,
    Descriptor,
    Reference,
    Registry,
    parse_json,
    sha256_digest,
)

if TYPE_CHECKING:
    from curator.core.policy import Policy
    from curator.ledger.base import LedgerBase

PREDICATE_TYPE = "https://curator.dev/attestation/ledger-checkpoint/v1"
ARTIFACT_TYPE = "application/vnd.curator.ledger-checkpoint.v1+json"
REPOSITORY = "curator/ledger-checkpoints"
LATEST = "latest"


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


def _statement(rows: int, head: str, genesis: str, where: str, signer: Signer) -> dict[str, Any]:
    return in_toto_statement("curator-ledger", head, PREDICATE_TYPE,
                                     {"rows": rows, "head": head, "genesis": genesis, "ledger": where,
                              "curator": signer.identity.to_dict(), "time": utc_now()})


def make_checkpoint(ledger: LedgerBase, signer: Signer, registry: Registry, repository: str) -> Checkpoint:
    """Sign the ledger's current head and store it in the registry; recorded in the ledger too."""
    report = ledger.verify()
    if not report.ok:
        raise IntegrityError(f"the ledger {ledger.where} is already broken at row {report.first_bad} "
                             f"({report.reason})", "find out what happened before signing a checkpoint")
    if report.rows == 0:
        raise UsageError(f"the ledger {ledger.where} is empty", "there is nothing to checkpoint yet")
    genesis = str(ledger.events()[0]["hash"])
    statement = _statement(report.rows, report.head, genesis, ledger.where, signer)
    envelope = sign_statement(statement, signer)
    empty = Descriptor(EMPTY_TYPE, sha256_digest(EMPTY_JSON), len(EMPTY_JSON))
    layer = Descriptor(DSSE_TYPE, sha256_digest(envelope), len(envelope))
    for descriptor, data in ((empty, EMPTY_JSON), (layer, envelope)):
        if not registry.has_blob(repository, descriptor.digest):
            registry.push_blob(repository, descriptor.digest, descriptor.size, data)
    manifest = json.dumps({"schemaVersion": 2, "mediaType": MANIFEST_TYPE, "artifactType": ARTIFACT_TYPE,
                           "config": empty.to_dict(), "layers": [layer.to_dict()],
                           "annotations": {"dev.curator.ledger.rows": str(report.rows),
                                           "dev.curator.ledger.head": report.head}},
                          sort_keys=True, separators=(",", ":")).encode()
    registry.put_manifest(repository, manifest, MANIFEST_TYPE, sha256_digest(manifest))
    registry.put_manifest(repository, manifest, MANIFEST_TYPE, f"rows-{report.rows}")
    registry.put_manifest(repository, manifest, MANIFEST_TYPE, LATEST)
    ref = registry.describe(Reference(repository, tag=f"rows-{report.rows}"))
    cid = decision_id(envelope)
    # recorded after the signed head, so this event is the first row the next checkpoint covers
    ledger.append("checkpoint", {"rows": report.rows, "head": report.head, "checkpoint_id": cid, "ref": ref,
                                 "curator": signer.identity.to_dict()})
    predicate = statement["predicate"]
    return Checkpoint(report.rows, report.head, genesis, predicate["time"], predicate["curator"], cid, ref)


@dataclass
class CheckpointCheck:
    """The ledger held against the latest checkpoint. ``ok`` when there is none to hold it to."""

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


def check_ledger(ledger: LedgerBase, registry: Registry, repository: str,
                 trusted: dict[str, Any]) -> CheckpointCheck:
    """Does the ledger still hold the latest checkpoint's rows, unchanged?"""
    try:
        checkpoint = read_checkpoint(registry, repository, trusted)
    except IntegrityError as exc:
        return CheckpointCheck(True, None, [exc.diagnostics()])
    if checkpoint is None:
        return CheckpointCheck(False)
    check = CheckpointCheck(True, checkpoint)
    events = ledger.events()
    by_seq = {int(e["seq"]): e for e in events}
    when = f"the checkpoint of {checkpoint.time} by {checkpoint.curator.get('name', '?')}"
    if len(events) < checkpoint.rows or checkpoint.rows not in by_seq:
        check.problems.append(f"the ledger has {len(events)} rows but {when} signed {checkpoint.rows}: "
                              "rows were deleted")
    elif by_seq[checkpoint.rows]["hash"] != checkpoint.head:
        check.problems.append(f"row {checkpoint.rows} does not hash to the head {when} signed: "
                              "the ledger was rewritten")
    elif events and events[0]["hash"] != checkpoint.genesis:
        check.problems.append(f"the first row is not the one {when} signed: another ledger, or rewritten")
    return check
