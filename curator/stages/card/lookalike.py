"""Look-alike names: a candidate whose publisher or id nearly matches one curator trusts.

Needs only the repo id, so it can run before a single file is downloaded.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from curator.core.models import Finding, Severity

PUBLISHERS_FILE = "publishers.yaml"
SEPARATORS = str.maketrans("", "", "-_. /")
_GLOB = set("*?[")
# characters that pass for others in a repo id (hub ids are ASCII; other endpoints may not be)
_CONFUSABLES = str.maketrans({
    "а": "a", "в": "b", "е": "e", "о": "o", "р": "p", "с": "c", "у": "y", "х": "x", "к": "k",
    "м": "m", "н": "h", "т": "t", "і": "i", "ј": "j", "ѕ": "s", "ԁ": "d", "ԛ": "q", "ԝ": "w",
    "ү": "y", "һ": "h", "ӏ": "l", "Ӏ": "l", "А": "a", "В": "b", "Е": "e", "К": "k", "М": "m",
    "Н": "h", "О": "o", "Р": "p", "С": "c", "Т": "t", "Х": "x", "У": "y", "І": "l", "Ј": "j",
    "Ѕ": "s", "α": "a", "ο": "o", "ν": "v", "ρ": "p", "ι": "i", "κ": "k", "τ": "t", "υ": "u",
    "χ": "x", "ε": "e", "Α": "a", "Β": "b", "Ε": "e", "Ζ": "z", "Η": "h", "Ι": "l", "Κ": "k",
    "Μ": "m", "Ν": "n", "Ο": "o", "Ρ": "p", "Τ": "t", "Υ": "y", "Χ": "x", "ı": "i", "ℓ": "l",
    # uppercase I and lowercase l are one glyph in most fonts; 0/o and 1/l nearly so
    "I": "l", "i": "l", "1": "l", "|": "l", "0": "o",
})


def skeleton(name: str) -> str:
    """What a name looks like: confusables folded, accents and separators dropped, lowercase."""
    text = unicodedata.normalize("NFKC", name).translate(_CONFUSABLES).lower().translate(_CONFUSABLES)
    text = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))
    return text.replace("rn", "m").replace("vv", "w").translate(SEPARATORS)


def distance(a: str, b: str, cap: int) -> int:
    """Edit distance with adjacent swaps (optimal string alignment); ``cap + 1`` once past cap."""
    if abs(len(a) - len(b)) > cap:
        return cap + 1
    before: list[int] = []
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i] + [0] * len(b)
        for j, cb in enumerate(b, 1):
            cost = 0 if ca == cb else 1
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                current[j] = min(current[j], before[j - 2] + 1)
        if min(current) > cap:
            return cap + 1
        before, previous = previous, current
    return previous[-1]


@dataclass(frozen=True)
class NearMiss:
    """The candidate's name resembles something curator protects."""

    kind: str  # publisher | model | name
    name: str  # the candidate's part that resembles it
    resembles: str
    source: str  # trusted publishers | inventory
    why: str

    @property
    def severity(self) -> Severity:
        return Severity.MEDIUM if self.kind == "name" else Severity.HIGH

    def to_dict(self) -> dict[str, str]:
        return {"kind": self.kind, "name": self.name, "resembles": self.resembles,
                "source": self.source, "why": self.why, "severity": self.severity.value}

    def finding(self) -> Finding:
        if self.kind == "name":
            text = (f"'{self.name}' has the same name as {self.source} model '{self.resembles}' "
                    "but another publisher: make sure it is not a re-upload posing as it")
        else:
            what = "publisher" if self.kind == "publisher" else "model"
            text = (f"{what} '{self.name}' looks like {self.source} {what} '{self.resembles}' "
                    f"({self.why}): check it really is {self.resembles} before going on")
        return Finding(self.severity, f"lookalike-{self.kind}", text)


def _split(repo_id: str) -> tuple[str, str]:
    org, _, name = repo_id.partition("/")
    return (org, name) if name else ("", org)


def resembles(a: str, b: str, max_distance: int = 2, short_name: int = 5) -> str | None:
    """Why ``a`` could be mistaken for ``b`` (a different name), or None."""
    if a.lower() == b.lower():
        return None
    sa, sb = skeleton(a), skeleton(b)
    if not sa or not sb:
        return None
    if sa == sb:
        same_letters = a.lower().translate(SEPARATORS) == b.lower().translate(SEPARATORS)
        return "differs only in separators" if same_letters else "look-alike characters"
    shortest = min(len(sa), len(sb))
    allowed = 0 if shortest <= 3 else 1 if shortest <= short_name else max_distance
    edits = distance(sa, sb, allowed)
    if 0 < edits <= allowed:
        return f"{edits} edit{'s' if edits > 1 else ''} away"
    return None


def near_misses(repo_id: str, trusted_publishers: list[str], inventory_names: list[str],
                max_distance: int = 2, short_name: int = 5) -> list[NearMiss]:
    """Every protected publisher, model or name the candidate's id nearly (not exactly) matches."""
    repo_id = repo_id.strip()
    org, name = _split(repo_id)
    found: list[NearMiss] = []
    models = [(m, "trusted") for m in trusted_publishers if "/" in m]
    publishers = {p.lower(): (p, "trusted") for p in trusted_publishers if p and "/" not in p}
    trusted_orgs = {_split(m)[0] if "/" in m else m for m in trusted_publishers if m}
    # an inventory model whose publisher imitates a trusted one protects no name: it is the
    # impostor, and the genuine publisher's models must not be judged look-alikes of it
    models += [(m, "inventory") for m in inventory_names
               if m and not any(resembles(_split(m)[0], t, max_distance, short_name) for t in trusted_orgs)]
    for model, source in models:
        m_org = _split(model)[0]
        if m_org:
            publishers.setdefault(m_org.lower(), (m_org, source))
    if org and org.lower() not in publishers:
        for known, source in publishers.values():
            why = resembles(org, known, max_distance, short_name)
            if why:
                found.append(NearMiss("publisher", org, known, source, why))
    for model, source in models:
        m_org, m_name = _split(model)
        if repo_id.lower() == model.lower() or (org and org.lower() == m_org.lower()):
            continue  # the model itself, or another model of the same publisher
        why = resembles(repo_id, model, max_distance, short_name)
        if why:
            found.append(NearMiss("model", repo_id, model, source, why))
        elif skeleton(name) and skeleton(name) == skeleton(m_name):
            found.append(NearMiss("name", repo_id, model, source, "same model name"))
    return found


def lookalike_findings(repo_id: str, trusted_publishers: list[str], inventory_names: list[str],
                       max_distance: int = 2, short_name: int = 5) -> list[Finding]:
    """Findings for a candidate id that resembles a trusted publisher or an inventory model."""
    findings = [m.finding() for m in near_misses(repo_id, trusted_publishers, inventory_names,
                                                 max_distance, short_name)]
    odd = not_ascii(repo_id)
    return [*findings, odd] if odd else findings


def not_ascii(repo_id: str) -> Finding | None:
    """Hub ids are ASCII: other characters in one are there to imitate something."""
    if repo_id.isascii():
        return None
    return Finding(Severity.MEDIUM, "name-not-ascii",
                   f"'{repo_id}' has non-ASCII characters, which hub ids never have: "
                   "it may imitate another name; compare it letter by letter")


def trusted_publishers(directory: Path, card_section: dict[str, Any]) -> tuple[list[str], list[Finding]]:
    """Protected names: orgs and exact repos of publishers.yaml, plus ``card.lookalike.protected``.

    publishers.yaml belongs to the signature stage; it is read defensively here (missing
    is fine, malformed is a finding) so the name check never depends on it being perfect.
    """
    import yaml

    names: list[str] = []
    problems: list[Finding] = []
    lookalike = card_section.get("lookalike")
    protected = lookalike.get("protected") if isinstance(lookalike, dict) else None
    protected = [protected] if isinstance(protected, str) else protected
    names.extend(str(p) for p in protected or [] if isinstance(p, str | int))
    path = directory / PUBLISHERS_FILE
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return names, problems
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        problems.append(Finding(Severity.LOW, "publishers-unreadable",
                                f"checklist {path} cannot be read ({str(exc)[:120]}); look-alike "
                                "names were checked against the inventory only: fix the file"))
        return names, problems
    entries = data.get("publishers") if isinstance(data, dict) else None
    for entry in entries if isinstance(entries, list) else []:
        match = str(entry.get("match", "")) if isinstance(entry, dict) else ""
        org, _, rest = match.partition("/")
        if org and not _GLOB & set(org):
            names.append(match if rest and not _GLOB & set(rest) else org)
    return names, problems
