"""Signed ledger checkpoints: the chain's head, signed by a curator, kept in the registry.

The hash chain catches an edited row, but not a ledger rewritten from some row on with
freshly computed hashes, nor its last rows deleted. A checkpoint closes both: it signs
(row count, head hash, first row's hash) with the curator key as a DSSE envelope, and
stores it as an OCI artifact in the registry (the workspace's layout, or the remote
registry), under ``<namespace>/curator/ledger-checkpoints`` with the tags ``latest`` and
``rows-<N>``. Anyone holding the registry and the team's keys can then tell whether a
ledger still holds the checkpointed rows unchanged. One registry namespace serves one
ledger (a team shares both); the first row's hash tells ledgers apart. Holding a ledger to
its checkpoints is ``curator.decision.checkpoints`` (``decide`` does it before it signs).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from curator.attest.dsse import decision_id, sign_statement
from curator.attest.keys import Signer
from curator.attest.statement import in_toto_statement
from curator.core.clock import utc_now
from curator.core.errors import IntegrityError, UsageError
from curator.core.events import CheckpointSigned
from curator.decision.checkpoints import (
    ARTIFACT_TYPE,
    LATEST,
    PREDICATE_TYPE,
    Checkpoint,
    CheckpointCheck,
    check_ledger,
    checkpoint_repository,
    read_checkpoint,
)
from curator.registry.artifact import DSSE_TYPE
from curator.registry.interface import (
    EMPTY_JSON,
    EMPTY_TYPE,
    MANIFEST_TYPE,
    Descriptor,
    Reference,
    Registry,
    sha256_digest,
)

if TYPE_CHECKING:
    from curator.ledger.base import LedgerBase

__all__ = ["Checkpoint", "CheckpointCheck", "check_ledger", "checkpoint_repository", "make_checkpoint",
           "read_checkpoint"]


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
    ledger.record(CheckpointSigned(report.rows, report.head, cid, ref, registry.location,
                                   signer.identity.to_dict()))
    predicate = statement["predicate"]
    return Checkpoint(report.rows, report.head, genesis, predicate["time"], predicate["curator"], cid, ref)
