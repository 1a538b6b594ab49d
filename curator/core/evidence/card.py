"""The card stage's evidence, typed: the five provenance fields, claims, license, lineage,
look-alike names, and the card file itself."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from curator.core.evidence.fields import NO_FACTS, Facts, Fields
from curator.core.models import StageResult

STAGE = "card"


@dataclass(frozen=True)
class Excerpt:
    """Where in the card a fact was read, and what it says."""

    location: str = ""
    excerpt: str = ""
    kind: str = ""
    line: int | None = None

    @classmethod
    def read(cls, f: Fields) -> Excerpt:
        return cls(f.text("location"), f.text("excerpt"), f.text("kind"), f.opt_integer("line"))


@dataclass(frozen=True)
class CardField:
    """One provenance field: its grade (verified | declared | missing) and the excerpts behind it."""

    status: str = "missing"
    title: str = ""
    evidence: tuple[Excerpt, ...] = ()
    placeholders: tuple[Excerpt, ...] = ()
    note: str = ""

    @classmethod
    def read(cls, f: Fields) -> CardField:
        return cls(f.text("status", "missing"), f.text("title"),
                   tuple(Excerpt.read(e) for e in f.objs("evidence")),
                   tuple(Excerpt.read(e) for e in f.objs("placeholders")), f.text("note"))


@dataclass(frozen=True)
class CardClaim:
    """One score the card reports (model-index); ``verified`` is the card's own flag."""

    task: str | None = None
    task_name: str | None = None
    dataset: str | None = None
    dataset_name: str | None = None
    config: str | None = None
    split: str | None = None
    metric: str | None = None
    metric_name: str | None = None
    value: str | float | bool | None = None
    n_shot: int | None = None
    verified: bool = False
    location: str = ""
    line: int | None = None
    data: Facts = field(default_factory=lambda: NO_FACTS)  # the claim as recorded, for the eval stage's plan

    @classmethod
    def read(cls, f: Fields) -> CardClaim:
        return cls(f.opt_text("task"), f.opt_text("task_name"), f.opt_text("dataset"),
                   f.opt_text("dataset_name"),
                   f.opt_text("config"), f.opt_text("split"), f.opt_text("metric"), f.opt_text("metric_name"),
                   f.scalar("value"), f.opt_integer("n_shot"), f.flag("verified"), f.text("location"),
                   f.opt_integer("line"), f.frozen())

    @property
    def claimed_or_value(self) -> str | float | bool | None:
        """The claim's value as written (the eval stage's ``EvalClaim`` has a judged one too)."""
        return self.value


@dataclass(frozen=True)
class DeclaredLicense:
    id: str | None = None
    text: str | None = None
    location: str = ""
    line: int | None = None
    verdict: str | None = None

    @classmethod
    def read(cls, f: Fields) -> DeclaredLicense:
        return cls(f.opt_text("id"), f.opt_text("text"), f.text("location"), f.opt_integer("line"),
                   f.opt_text("verdict"))


@dataclass(frozen=True)
class License:
    """The declared license against licenses.yaml: allowed | needs-legal | denied | missing."""

    id: str | None = None
    verdict: str = "missing"
    name: str | None = None
    link: str | None = None
    location: str = ""
    line: int | None = None
    declared: tuple[DeclaredLicense, ...] = ()

    @classmethod
    def read(cls, f: Fields) -> License:
        return cls(f.opt_text("id"), f.text("verdict", "missing"), f.opt_text("name"), f.opt_text("link"),
                   f.text("location"), f.opt_integer("line"),
                   tuple(DeclaredLicense.read(d) for d in f.objs("declared")))


@dataclass(frozen=True)
class Base:
    """A base model the card names, and whether curator approved it."""

    repo_id: str
    approved: bool = False
    approved_by: str | None = None
    location: str = ""
    line: int | None = None
    source: str | None = None
    withdrawn: str | None = None

    @classmethod
    def read(cls, f: Fields) -> Base:
        return cls(f.text("repo_id"), f.flag("approved"), f.opt_text("approved_by"), f.text("location"),
                   f.opt_integer("line"), f.opt_text("source"), f.opt_text("withdrawn"))


@dataclass(frozen=True)
class Lineage:
    relation: str | None = None
    inferred_relation: str | None = None
    bases: tuple[Base, ...] = ()

    @classmethod
    def read(cls, f: Fields) -> Lineage:
        return cls(f.opt_text("relation"), f.opt_text("inferred_relation"),
                   tuple(Base.read(b) for b in f.objs("bases")))


@dataclass(frozen=True)
class LookAlike:
    """A name that looks like a trusted publisher's or an adopted model's."""

    kind: str  # name | publisher | model
    name: str = ""
    resembles: str = ""
    source: str = ""
    why: str = ""
    severity: str = ""

    @classmethod
    def read(cls, f: Fields) -> LookAlike:
        return cls(f.text("kind"), f.text("name"), f.text("resembles"), f.text("source"), f.text("why"),
                   f.text("severity"))


@dataclass(frozen=True)
class CardFile:
    """The card file as the stage read it."""

    path: str | None = None
    present: bool = True
    bytes: int = 0
    sha256: str | None = None
    truncated: bool = False
    front_matter: bool = False
    metadata_readable: bool = True
    metadata_keys: tuple[str, ...] = ()
    outline: tuple[Facts, ...] = ()

    @classmethod
    def read(cls, f: Fields) -> CardFile:
        return cls(f.opt_text("path"), f.flag("present", True), f.integer("bytes"), f.opt_text("sha256"),
                   f.flag("truncated"), f.flag("front_matter"), f.flag("metadata_readable", True),
                   f.texts("metadata_keys"), tuple(o.frozen() for o in f.objs("outline")))


@dataclass(frozen=True)
class Contact:
    text: str = ""
    emails: tuple[str, ...] = ()
    line: int | None = None

    @classmethod
    def read(cls, f: Fields) -> Contact:
        return cls(f.text("text"), f.texts("emails"), f.opt_integer("line"))


@dataclass(frozen=True)
class CardEvidence:
    """What the card stage concluded about the model card, and where it read each fact."""

    status: str = ""
    summary: tuple[str, ...] = ()
    fields: Mapping[str, CardField] = field(default_factory=lambda: NO_FACTS)
    claims: tuple[CardClaim, ...] = ()
    claims_recorded: bool = False
    license: License = License()
    license_recorded: bool = False
    lineage: Lineage = Lineage()
    lookalike: tuple[LookAlike, ...] = ()
    card: CardFile = CardFile()
    architecture: Mapping[str, str] = field(default_factory=lambda: NO_FACTS)
    contacts: tuple[Contact, ...] = ()

    KEYS = frozenset({"status", "summary", "fields", "claims", "license", "lineage", "lookalike", "findings",
                      "card", "architecture", "contacts"})

    @classmethod
    def from_evidence(cls, evidence: object) -> CardEvidence:
        """The one place the card stage's evidence dict is read (its ``findings`` are the result's)."""
        f = Fields(evidence, STAGE)
        return cls(
            status=f.text("status"), summary=f.texts("summary"),
            fields={name: CardField.read(g) for name, g in f.named_objs("fields").items()},
            claims=tuple(CardClaim.read(c) for c in f.objs("claims")), claims_recorded=f.has("claims"),
            license=License.read(f.obj("license")), license_recorded=f.has("license"),
            lineage=Lineage.read(f.obj("lineage")),
            lookalike=tuple(LookAlike.read(m) for m in f.objs("lookalike")),
            card=CardFile.read(f.obj("card")),
            architecture=f.str_map("architecture"),
            contacts=tuple(Contact.read(c) for c in f.objs("contacts")))

    @classmethod
    def of(cls, result: StageResult | None) -> CardEvidence:
        return cls.from_evidence(result.evidence if result is not None else None)
