"""The card stage: the model card against the five provenance fields, license, lineage and
look-alike names.

``lookalike_findings`` and ``name_check`` (name only, before download) are public so the review
command can flag a look-alike before a byte is downloaded.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from curator.core.errors import StageCrashed
from curator.core.models import Candidate, Finding, Manifest, Severity, StageResult
from curator.core.progress import Progress
from curator.core.stage import ReviewContext, Stage
from curator.core.standing import Standings
from curator.stages.card.grade import CardSettings
from curator.stages.card.license import LicenseTable, candidate_files
from curator.stages.card.lookalike import lookalike_findings, trusted_publishers
from curator.stages.card.parse import ParsedCard, parse_card, read_card_bytes
from curator.stages.card.review import CardInputs, CardReport, examine
from curator.stages.card.rules import ProvenanceRules

if TYPE_CHECKING:
    from curator.core.policy import Policy

__all__ = ["CardStage", "examine_folder", "load_card", "lookalike_findings",
           "name_check"]

CARD_NAME = "README.md"


def _card_name(names: list[str]) -> str | None:
    """The hub reads ``README.md`` at the repo root; accept another case only as a fallback."""
    if CARD_NAME in names:
        return CARD_NAME
    return next((n for n in names if n.lower() == CARD_NAME.lower()), None)


def load_card(files_dir: Path, manifest: Manifest | None, max_bytes: int,
              card_file: Path | None = None) -> ParsedCard:
    """Find, read (capped) and parse the candidate's card; a missing card is a ParsedCard too.

    With a pinned manifest only the files it lists count, and the card's bytes must still
    be the pinned ones.
    """
    from curator.core.paths import escapes

    if card_file is not None:
        name, path = card_file.name, card_file
    else:
        names = candidate_files(files_dir, manifest)
        found = _card_name(names)
        if found is None:
            return ParsedCard(name=CARD_NAME)
        name, path = found, files_dir / found
        if escapes(files_dir, path):
            card = ParsedCard(name=name)
            card.problems.append(Finding(
                Severity.HIGH, "card-outside-candidate",
                f"{name} is a link to a file outside the candidate's folder; it was not read: "
                "ask the publisher for a plain README.md", file=name))
            return card
    try:
        data, size = read_card_bytes(path, max_bytes)
        digest = _sha256(path) if manifest is not None else ""
    except OSError as exc:
        raise StageCrashed(f"cannot read the model card {path} ({exc.strerror or exc})",
                           "check the review folder, then run the review again") from exc
    card = parse_card(data, name=name, max_bytes=max_bytes, size=size)
    pinned = manifest.get(name) if manifest is not None else None
    if pinned is not None and digest != pinned.sha256:
        card.problems.append(Finding(
            Severity.HIGH, "card-changed",
            f"{name} on disk (sha256 {digest[:16]}…) is not the pinned file "
            f"({pinned.sha256[:16]}…): the files changed after fetch; run the review again",
            file=name))
    return card


def _sha256(path: Path) -> str:
    with path.open("rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def _tool_versions() -> dict[str, str]:
    import huggingface_hub
    import yaml

    return {"huggingface_hub": huggingface_hub.__version__, "pyyaml": yaml.__version__}


def examine_folder(ctx: ReviewContext, progress: Progress,
                   card_file: Path | None = None) -> CardReport:
    """The whole card review for a context; ``card_file`` overrides the README lookup."""
    section = ctx.policy.section("card")
    settings = CardSettings.from_section(section)
    directory = ctx.policy.directory
    rules = ProvenanceRules.load(directory)
    table = LicenseTable.load(directory)
    progress.set_total(3, unit="steps")
    card = load_card(ctx.files_dir, ctx.manifest, settings.max_card_bytes, card_file)
    progress.advance(1, f"read {card.name}" if card.present else "no model card")
    progress.check()
    trusted, problems = trusted_publishers(directory, section)
    approved = ctx.standings.approved()
    withdrawn = {repo: w.describe() for repo in {s.repo_id for s in ctx.standings}
                 if (w := ctx.standings.withdrawn(repo)) is not None}
    progress.advance(1, "checked publishers and the inventory")
    progress.check()
    inputs = CardInputs(
        repo_id=ctx.candidate.repo_id, source=ctx.candidate.source,
        files=[] if card_file else candidate_files(ctx.files_dir, ctx.manifest),
        files_dir=None if card_file else ctx.files_dir, manifest=ctx.manifest,
        signature=ctx.results.get("signature"), approved=approved, withdrawn=withdrawn, trusted=trusted,
        inventory=sorted(approved), problems=problems)
    report = examine(card, inputs, settings, rules, table)
    progress.advance(1, f"card {report.status.value}")
    return report


def name_check(candidate: Candidate, policy: Policy, standings: Standings | None = None) -> list[Finding]:
    """Look-alike findings for a candidate from its repo id alone: run it before any download.

    The same check runs again inside the card stage, so its result is also in the review.
    """
    if candidate.repo_id.startswith("local/"):
        return []
    section = policy.section("card")
    settings = CardSettings.from_section(section)
    trusted, problems = trusted_publishers(policy.directory, section)
    inventory = sorted((standings or Standings()).approved())
    return problems + lookalike_findings(candidate.repo_id, trusted, inventory,
                                         settings.max_distance, settings.short_name)


class CardStage(Stage):
    """Grades the model card: provenance fields, claims, license, lineage, look-alike names."""

    name: ClassVar[str] = "card"
    title: ClassVar[str] = "Model card"
    requires: ClassVar[tuple[str, ...]] = ("fetch",)

    def run(self, ctx: ReviewContext, progress: Progress) -> StageResult:
        from curator.stages.card.facts import architecture, contacts

        report = examine_folder(ctx, progress)
        evidence = {**report.to_dict(), "architecture": architecture(ctx.files_dir, ctx.manifest),
                    "contacts": contacts(report.card)}
        return StageResult(stage=self.name, status=report.status, findings=tuple(report.findings),
                           evidence=evidence, tool_versions=_tool_versions())
