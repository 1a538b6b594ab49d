"""The signature stage's evidence, typed: the verdict, the signer and whether curator trusts it,
every file's signed digest against the pinned one, and any provenance attestations."""

from __future__ import annotations

from dataclasses import dataclass, field

from curator.core.evidence.fields import NO_FACTS, Facts, Fields
from curator.core.models import StageResult

STAGE = "signature"


@dataclass(frozen=True)
class Trust:
    """Whether the verified signer is one curator holds this publisher to, and why."""

    decision: str = ""  # expected | tofu-match | tofu-new | unknown | mismatch
    why: str = ""
    expected: tuple[Facts, ...] = ()  # the anchors the signer was held to
    first_seen: Facts | None = None
    recorded: bool = False

    @classmethod
    def read(cls, f: Fields) -> Trust:
        first = f.facts("first_seen") if f.has("first_seen") else None
        return cls(f.text("decision"), f.text("why"), tuple(e.frozen() for e in f.objs("expected")), first,
                   bool(f.data))


@dataclass(frozen=True)
class SignedFile:
    """One row of the digest comparison: the signed digest and the pinned bytes' digest."""

    path: str
    state: str  # match | mismatch | missing | unsigned | ignored
    signed_sha256: str | None = None
    manifest_sha256: str | None = None
    signed_digest: str | None = None  # ``algorithm:hex`` when not a whole-file SHA-256
    actual_digest: str | None = None

    @classmethod
    def read(cls, f: Fields) -> SignedFile:
        return cls(f.text("path"), f.text("state"), f.opt_text("signed_sha256"),
                   f.opt_text("manifest_sha256"),
                   f.opt_text("signed_digest"), f.opt_text("actual_digest"))

    @property
    def signed(self) -> str:
        return self.signed_sha256 or self.signed_digest or ""

    @property
    def now(self) -> str:
        return self.manifest_sha256 or self.actual_digest or ""


@dataclass(frozen=True)
class Attestation:
    """One provenance attestation shipped with the model, as the signature stage checked it."""

    file: str = ""
    line: int | None = None
    format: str = ""
    status: str = ""
    usable: bool = False
    weights_not_covered: tuple[str, ...] = ()
    trust: Facts = field(default_factory=lambda: NO_FACTS)
    facts: Facts | None = None  # builder, source, dependencies: whatever its author wrote
    subjects: tuple[Facts, ...] = ()
    error: str | None = None

    @classmethod
    def read(cls, f: Fields) -> Attestation:
        return cls(f.text("file"), f.opt_integer("line"), f.text("format"), f.text("status"),
                   f.flag("usable"),
                   f.texts("weights_not_covered"), f.facts("trust"),
                   f.facts("facts") if f.has("facts") else None,
                   tuple(s.frozen() for s in f.objs("subjects")), f.opt_text("error"))


@dataclass(frozen=True)
class PublisherRule:
    """The publishers.yaml entry the candidate's publisher matched."""

    match: str
    required: bool
    note: str | None

    @classmethod
    def read(cls, f: Fields) -> PublisherRule:
        return cls(f.text("match"), f.flag("required"), f.opt_text("note"))


@dataclass(frozen=True)
class SignatureEvidence:
    """The signature's verdict and everything behind it."""

    status: str = ""  # verified | failed | unsigned; "" when the stage recorded none
    mode: str | None = None
    #: kind, identity, issuer, fingerprint...: whatever the signature proved
    signer: Facts = field(default_factory=lambda: NO_FACTS)
    claimed_signer: Facts | None = None  # what a signature that did not verify claims
    trust: Trust = Trust()
    files: tuple[SignedFile, ...] = ()
    ignore_paths: tuple[str, ...] = ()
    signature_file: str | None = None
    serialization: Facts = field(default_factory=lambda: NO_FACTS)
    model_name: str | None = None
    verified_against: Facts = field(default_factory=lambda: NO_FACTS)
    error: str | None = None
    problem: str | None = None
    transparency: Facts | None = None
    publisher: str = ""
    publisher_rule: PublisherRule | None = None
    required: bool = False
    compared_with: str | None = None
    first_use: Facts | None = None
    attestations: tuple[Attestation, ...] = ()

    KEYS = frozenset({"status", "mode", "signer", "claimed_signer", "trust", "files", "ignore_paths",
                      "signature_file", "serialization", "model_name", "verified_against", "error", "problem",
                      "transparency", "publisher", "publisher_rule", "required", "compared_with", "first_use",
                      "provenance"})

    @classmethod
    def from_evidence(cls, evidence: object) -> SignatureEvidence:
        """The one place the signature stage's evidence dict is read."""
        f = Fields(evidence, STAGE)
        rule = f.opt_obj("publisher_rule")
        return cls(
            status=f.text("status"), mode=f.opt_text("mode"), signer=f.facts("signer"),
            claimed_signer=f.facts("claimed_signer") if f.has("claimed_signer") else None,
            trust=Trust.read(f.obj("trust")), files=tuple(SignedFile.read(e) for e in f.objs("files")),
            ignore_paths=f.texts("ignore_paths"), signature_file=f.opt_text("signature_file"),
            serialization=f.facts("serialization"), model_name=f.opt_text("model_name"),
            verified_against=f.facts("verified_against"), error=f.opt_text("error"),
            problem=f.opt_text("problem"),
            transparency=f.facts("transparency") if f.has("transparency") else None,
            publisher=f.text("publisher"),
            publisher_rule=PublisherRule.read(rule) if rule is not None else None,
            required=f.flag("required"), compared_with=f.opt_text("compared_with"),
            first_use=f.facts("first_use") if f.has("first_use") else None,
            attestations=tuple(Attestation.read(a) for a in f.obj("provenance").objs("attestations")))

    @classmethod
    def of(cls, result: StageResult | None) -> SignatureEvidence:
        return cls.from_evidence(result.evidence if result is not None else None)

    @property
    def verified(self) -> bool:
        return self.status == "verified"

    @property
    def usable_attestations(self) -> tuple[Attestation, ...]:
        """Attestations verified, trusted and matched to the pinned files, every weight file covered."""
        return tuple(a for a in self.attestations
                     if a.usable and a.facts is not None and not a.weights_not_covered)
