"""ModelPack artifacts: one raw layer per file, a config describing the model, and the
decision as a referrer whose layers are DSSE envelopes.

Everything here is deterministic (no timestamps): the same pinned files always give the
same manifest digest, so the decision can be signed over the digest before the push and
a re-push of approved bytes uploads nothing.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import TYPE_CHECKING

from curator.core.errors import IntegrityError
from curator.core.models import Candidate, Manifest, Review
from curator.core.paths import unsafe_reason
from curator.registry import settings
from curator.registry.interface import (
    EMPTY_JSON,
    EMPTY_TYPE,
    MANIFEST_TYPE,
    TITLE,
    Descriptor,
    parse_json,
    sha256_digest,
)

if TYPE_CHECKING:
    from curator.core.policy import Policy


MODEL_ARTIFACT_TYPE = "application/vnd.cncf.model.manifest.v1+json"
MODEL_CONFIG_TYPE = "application/vnd.cncf.model.config.v1+json"
DECISION_ARTIFACT_TYPE = "application/vnd.curator.decision.v1+json"
DSSE_TYPE = "application/vnd.dsse.envelope.v1+json"
FILEPATH = "org.cncf.model.filepath"
_MP = "application/vnd.cncf.model."
WEIGHT, WEIGHT_CONFIG = _MP + "weight.v1.raw", _MP + "weight.config.v1.raw"
DOC, CODE, DATASET = _MP + "doc.v1.raw", _MP + "code.v1.raw", _MP + "dataset.v1.raw"

WEIGHT_EXT = {".safetensors", ".bin", ".pt", ".pth", ".ckpt", ".gguf", ".ggml", ".onnx", ".h5",
              ".keras", ".msgpack", ".pb", ".tflite", ".npz", ".npy", ".joblib", ".pkl", ".pickle"}
DOC_EXT = {".md", ".rst", ".pdf", ".png", ".jpg", ".jpeg", ".gif", ".svg", ".html"}
CODE_EXT = {".py", ".sh", ".ipynb", ".js", ".ts", ".c", ".cpp", ".cu", ".rs", ".go"}
DATASET_EXT = {".parquet", ".csv", ".tsv", ".jsonl", ".arrow"}
FORMATS = {".safetensors": "safetensors", ".gguf": "gguf", ".onnx": "onnx", ".bin": "pytorch",
           ".pt": "pytorch", ".pth": "pytorch", ".h5": "keras", ".keras": "keras"}


def layer_media_type(path: str) -> str:
    """The ModelPack layer type of a file, from its name."""
    p = PurePosixPath(path)
    ext = p.suffix.lower()
    if ext in WEIGHT_EXT:
        return WEIGHT
    if ext in DOC_EXT or p.name.upper().startswith(("LICENSE", "NOTICE", "README")):
        return DOC
    if ext in CODE_EXT:
        return CODE
    if ext in DATASET_EXT:
        return DATASET
    return WEIGHT_CONFIG


def repository_name(repo_id: str, namespace: str = "") -> str:
    """A registry repository name for a hub repo id: lowercase, only OCI-legal characters."""
    parts = []
    for part in [*namespace.strip("/").split("/"), *repo_id.split("/")]:
        clean = re.sub(r"[^a-z0-9._-]+", "-", part.lower())
        clean = re.sub(r"[._-]{2,}", "-", clean).strip("._-")
        if clean:
            parts.append(clean)
    return "/".join(parts)


def tag_for(revision: str) -> str:
    """The tag scheme: the pinned revision's first 12 hex (a commit, or a manifest digest)."""
    return revision.split(":", 1)[-1][:12]


@dataclass(frozen=True)
class Layer:
    path: str
    descriptor: Descriptor


@dataclass(frozen=True)
class ModelArtifact:
    """The bytes of a model artifact's config and manifest, and its layers by file."""

    config: bytes
    manifest: bytes
    layers: tuple[Layer, ...]

    @property
    def digest(self) -> str:
        return sha256_digest(self.manifest)

    @property
    def descriptor(self) -> Descriptor:
        return Descriptor(MANIFEST_TYPE, self.digest, len(self.manifest), artifact_type=MODEL_ARTIFACT_TYPE)


def _dumps(value: object) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def build_model(candidate: Candidate, manifest: Manifest, revision: str) -> ModelArtifact:
    """The ModelPack artifact for a reviewed candidate's pinned files."""
    layers = tuple(Layer(f.path, Descriptor(layer_media_type(f.path), "sha256:" + f.sha256, f.size,
                                            {TITLE: f.path, FILEPATH: f.path}))
                   for f in manifest.files)
    formats = sorted({FORMATS[PurePosixPath(f.path).suffix.lower()] for f in manifest.files
                      if PurePosixPath(f.path).suffix.lower() in FORMATS})
    source = None
    if candidate.source == "hub":
        source = f"{(candidate.endpoint or 'https://huggingface.co').rstrip('/')}/{candidate.repo_id}"
    config = {
        "descriptor": {"name": candidate.repo_id, "revision": revision,
                       **({"sourceURL": source} if source else {})},
        "config": {"format": formats[0] if len(formats) == 1 else ",".join(formats) or "unknown"},
        "modelfs": {"type": "layers", "diff_ids": [layer.descriptor.digest for layer in layers]},
    }
    config_bytes = _dumps(config)
    body = {
        "schemaVersion": 2,
        "mediaType": MANIFEST_TYPE,
        "artifactType": MODEL_ARTIFACT_TYPE,
        "config": Descriptor(MODEL_CONFIG_TYPE, sha256_digest(config_bytes), len(config_bytes)).to_dict(),
        "layers": [layer.descriptor.to_dict() for layer in layers],
        "annotations": {"dev.curator.repo_id": candidate.repo_id, "dev.curator.revision": revision,
                        "dev.curator.manifest_digest": manifest.digest},
    }
    return ModelArtifact(config_bytes, _dumps(body), layers)


@dataclass(frozen=True)
class DecisionArtifact:
    """A referrer manifest carrying signed envelopes: decisions (one per approver), a rollback."""

    manifest: bytes
    blobs: tuple[tuple[Descriptor, bytes], ...]

    @property
    def digest(self) -> str:
        return sha256_digest(self.manifest)


def build_decision(envelopes: list[bytes], subject: Descriptor,
                   artifact_type: str = DECISION_ARTIFACT_TYPE) -> DecisionArtifact:
    """A referrer of signed records (decisions by default): empty config, one DSSE envelope
    layer per signature. The one way curator attaches anything to an artifact."""
    blobs = [(Descriptor(EMPTY_TYPE, sha256_digest(EMPTY_JSON), len(EMPTY_JSON)), EMPTY_JSON)]
    layers = [Descriptor(DSSE_TYPE, sha256_digest(e), len(e)) for e in envelopes]
    blobs += [(d, e) for d, e in zip(layers, envelopes, strict=True)]
    body = {
        "schemaVersion": 2,
        "mediaType": MANIFEST_TYPE,
        "artifactType": artifact_type,
        "config": blobs[0][0].to_dict(),
        "layers": [d.to_dict() for d in layers],
        "subject": subject.to_dict(),
    }
    return DecisionArtifact(_dumps(body), tuple(blobs))


def read_model(body: bytes) -> tuple[Descriptor, tuple[Layer, ...]]:
    """The config and layers of a pulled model manifest; unsafe or duplicate paths are refused."""
    data = parse_json(body, "model manifest")
    if data.get("artifactType") != MODEL_ARTIFACT_TYPE:
        raise IntegrityError(f"the manifest is a {data.get('artifactType') or data.get('mediaType')}, "
                             "not a ModelPack model", "pass the reference of a model curator pushed")
    try:
        config = Descriptor.from_dict(data["config"])
        layers = []
        for raw in data["layers"]:
            d = Descriptor.from_dict(raw)
            layers.append(Layer(d.annotations.get(TITLE, ""), d))
    except (KeyError, TypeError, ValueError) as exc:
        raise IntegrityError(f"the model manifest is malformed ({exc})",
                             "the registry content is damaged") from exc
    seen: set[str] = set()
    for layer in layers:
        reason = unsafe_reason(layer.path)
        if reason or layer.path in seen:
            raise IntegrityError(f"the manifest names a file {layer.path!r} that cannot be written "
                                 f"({reason or 'duplicate'})", "refusing the artifact")
        seen.add(layer.path)
    return config, tuple(layers)


def read_decision(body: bytes) -> tuple[str, tuple[Descriptor, ...]] | None:
    """The subject digest and envelope layers of a decision referrer manifest (None if the
    manifest is some other kind of referrer)."""
    data = parse_json(body, "decision manifest")
    if data.get("artifactType") != DECISION_ARTIFACT_TYPE:
        return None
    try:
        subject = Descriptor.from_dict(data["subject"]).digest
        layers = tuple(Descriptor.from_dict(d) for d in data["layers"] if d.get("mediaType") == DSSE_TYPE)
    except (KeyError, TypeError, ValueError) as exc:
        raise IntegrityError(f"the decision manifest is malformed ({exc})",
                             "the registry content is damaged") from exc
    return subject, layers


def revision_of(review: Review, manifest: Manifest) -> str:
    """The revision a review's artifact is tagged with: the pinned commit, else the manifest digest."""
    return review.candidate.commit or manifest.digest


def model_artifact(policy: Policy, review: Review, manifest: Manifest) -> tuple[str, str, ModelArtifact]:
    """The repository name, tag and (deterministic) artifact a review's files become."""
    revision = revision_of(review, manifest)
    name = repository_name(review.candidate.repo_id, str(settings(policy).get("namespace", "")))
    return name, tag_for(revision), build_model(review.candidate, manifest, revision)
