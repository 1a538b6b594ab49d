"""The declared license against ``checklists/licenses.yaml``: allowed, needs-legal or denied."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from curator.core.errors import UsageError
from curator.core.models import Finding, Manifest, Severity
from curator.stages.card.parse import ParsedCard
from curator.stages.card.text import collapse, excerpt, has_substance

LICENSES_FILE = "licenses.yaml"
VERDICTS = ("allowed", "needs-legal", "denied")  # in order of concern
LICENSE_FILES = ("LICENSE", "LICENSE.md", "LICENSE.txt", "LICENCE", "LICENCE.md", "LICENSE.rst")
DEFAULT_SEVERITY = {"missing": "high", "needs-legal": "medium", "denied": "high"}


@dataclass(frozen=True)
class LicenseTable:
    """License id -> verdict, plus the prose spellings of common licenses."""

    verdicts: dict[str, str]
    aliases: dict[str, str]
    unlisted: str

    @classmethod
    def load(cls, directory: Path) -> LicenseTable:
        from curator.core.policy import load_yaml

        where = directory / LICENSES_FILE
        data = load_yaml(LICENSES_FILE, directory)
        if not isinstance(data, dict):
            raise UsageError(f"checklist {where} must be a mapping", "fix the file")
        verdicts: dict[str, str] = {}
        for verdict in VERDICTS:
            ids = data.get(verdict) or []
            if not isinstance(ids, list):
                raise UsageError(f"checklist {where}: '{verdict}' must be a list of license ids",
                                 "fix the file")
            for license_id in ids:
                verdicts[str(license_id).strip().lower()] = verdict
        unlisted = str(data.get("unlisted", "needs-legal"))
        aliases = data.get("aliases") or {}
        if unlisted not in VERDICTS or not isinstance(aliases, dict):
            raise UsageError(f"checklist {where}: 'unlisted' must be one of {', '.join(VERDICTS)} "
                             "and 'aliases' a mapping", "fix the file")
        return cls(verdicts, {collapse(str(k).lower()): str(v).lower() for k, v in aliases.items()},
                   unlisted)

    def identify(self, text: str) -> str | None:
        """The license id a piece of text names, if it names one this table knows."""
        key = collapse(text.lower()).strip(" .;,")
        if key in self.verdicts:
            return key
        return self.aliases.get(key) or self.aliases.get(key.removesuffix(" license"))

    def verdict(self, license_id: str) -> str:
        return self.verdicts.get(license_id, self.unlisted)


@dataclass
class LicenseReport:
    id: str | None = None
    verdict: str = "missing"
    link: str | None = None
    name: str | None = None
    location: str | None = None
    line: int | None = None
    declared: list[dict[str, Any]] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "verdict": self.verdict, "link": self.link, "name": self.name,
                "location": self.location, "line": self.line, "declared": self.declared}


def _prose_licenses(card: ParsedCard, placeholders: tuple[str, ...]) -> list[tuple[str, str, int]]:
    """(text, location, line) of each license stated in the prose."""
    found = []
    for label in card.labels:
        value = has_substance(label.value, placeholders, 2)
        if label.key in ("license", "licence", "许可证", "licencia") and value:
            section = card.sections[label.section]
            found.append((value, f"{section.location} > {label.label}", label.line))
    for section in card.sections:
        if section.level and section.key in ("license", "licence", "licensing", "许可证"):
            said = has_substance(card.own_text(section), placeholders, 2)
            if said:
                found.append((said[:200], section.location, section.line))
    return found


def check_license(card: ParsedCard, table: LicenseTable, placeholders: tuple[str, ...],
                  severities: dict[str, str], files: list[str]) -> LicenseReport:
    """The license a curator must accept, its verdict, and what disagrees about it."""
    report = LicenseReport()
    meta = card.metadata.get("license")
    listed = meta if isinstance(meta, list) else [] if meta in (None, "") else [meta]
    for i, raw in enumerate(listed[:10]):
        where = f"license[{i}]" if isinstance(meta, list) else "license"
        license_id = str(raw).strip().lower()[:80]
        report.declared.append({"id": license_id, "location": where, "source": "front-matter",
                                "line": card.key_lines.get(where),
                                "verdict": table.verdict(license_id)})
    for text, where, line in _prose_licenses(card, placeholders):
        known = table.identify(text)
        report.declared.append({"id": known, "text": excerpt(text, 120), "location": where,
                                "source": "prose", "line": line,
                                "verdict": table.verdict(known) if known else table.unlisted})
    link = card.metadata.get("license_link")
    report.link = str(link)[:400] if isinstance(link, str) and link.strip() else None
    name = card.metadata.get("license_name")
    report.name = str(name)[:200] if isinstance(name, str) and name.strip() else None
    license_file = next((f for f in LICENSE_FILES if f in files), None)
    if report.link is None and license_file:
        report.link = f"file:{license_file}"
    _conclude(card, report, severities)
    return report


def _conclude(card: ParsedCard, report: LicenseReport, severities: dict[str, str]) -> None:
    name = card.name

    def finding(verdict: str, code: str, message: str) -> None:
        severity = Severity(severities.get(verdict, DEFAULT_SEVERITY[verdict]))
        report.findings.append(Finding(severity, code, message, file=name))

    if not report.declared:
        finding("missing", "license-missing",
                f"{name} declares no license (no 'license' key, no License section): without one "
                "there is no right to use the model; ask the publisher to add it")
        return
    meta = [d for d in report.declared if d["source"] == "front-matter"]
    worst = max(report.declared, key=lambda d: VERDICTS.index(d["verdict"]))
    first = meta[0] if meta else report.declared[0]
    report.id = first["id"] or "other"
    report.location, report.line = first["location"], first["line"]
    report.verdict = worst["verdict"]
    ids = {d["id"] for d in report.declared if d["id"]}
    if len(ids) > 1:
        found = ", ".join(f"{d['id'] or d.get('text')} at {d['location']}" for d in report.declared)
        report.findings.append(Finding(
            Severity.MEDIUM, "license-conflict",
            f"{name} names more than one license ({found}); the strictest counts: ask the "
            "publisher which applies", file=name))
    if not meta:
        report.findings.append(Finding(
            Severity.LOW, "license-not-in-metadata",
            f"{name} states its license only in prose ({excerpt(first.get('text') or '', 80)}); "
            "the hub does not show it: confirm it with the publisher", file=name))
    if report.id == "other" and not report.link and not report.name:
        report.findings.append(Finding(
            Severity.LOW, "license-other-undocumented",
            f"{name} says license 'other' with no license_name, license_link or LICENSE file: "
            "ask the publisher for the terms", file=name))
    where = f"{worst['location']}" + (f", line {worst['line']}" if worst.get("line") else "")
    shown = worst["id"] or worst.get("text")
    if worst["verdict"] == "denied":
        finding("denied", "license-denied",
                f"license {shown} ({where}) is denied by checklists/licenses.yaml: do not adopt "
                "this model for production")
    elif worst["verdict"] == "needs-legal":
        finding("needs-legal", "license-needs-legal",
                f"license {shown} ({where}) needs legal review under checklists/licenses.yaml"
                + (f" (terms: {report.link})" if report.link else "") + ": ask legal before approving")


def candidate_files(files_dir: Path | None, manifest: Manifest | None) -> list[str]:
    """Relative paths of the candidate's top-level files (from the manifest when pinned)."""
    if manifest is not None:
        return [f.path for f in manifest.files]
    if files_dir is None or not files_dir.is_dir():
        return []
    try:
        return sorted(p.name for p in files_dir.iterdir() if p.is_file())
    except OSError:
        return []
