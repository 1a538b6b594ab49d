"""A model card (README.md) as data: front matter, sections by heading, labelled lines.

Built for hostile input: any bytes give a ``ParsedCard`` and findings, never an exception;
the work done is bounded by the byte cap.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from curator.core.models import Finding, Severity
from curator.stages.card.frontmatter import hub_reading, read_front_matter
from curator.stages.card.text import MAX_LINE_CHARS, collapse, heading_key, strip_markup

DEFAULT_MAX_BYTES = 1 << 20
MAX_SECTIONS = 2000
MAX_LABELS = 5000

_ATX = re.compile(r"^ {0,3}(#{1,6})(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*$")
_HTML_HEADING = re.compile(r"^\s{0,3}<h([1-6])(?:\s[^>]{0,200})?>(.{0,400}?)</h\1>\s*$", re.I)
_SETEXT = re.compile(r"^ {0,3}(=+|-+)[ \t]*$")
_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
_NOT_PARAGRAPH = re.compile(r"^\s*(?:[-*+>|]|\d{1,3}[.)]\s|$)")
_BOLD_LABEL = re.compile(
    r"^\s{0,3}(?:[-*+]\s+)?(?:\*\*|__)([^*_\n]{1,80}?)\s*(?:[:：](?:\*\*|__)|(?:\*\*|__)\s*[:：])"
    r"\s*(.*)$")
_PLAIN_LABEL = re.compile(r"^\s{0,3}[-*+]\s+([^\W\d][^:：\n]{0,60}?)\s*(?::\s+|：\s*)(\S.*)$")


@dataclass(frozen=True)
class Section:
    """One heading and the lines under it (``own``: up to the next heading; ``full``: its subtree)."""

    heading: str
    level: int  # 0 = the text before the first heading
    path: tuple[str, ...]
    line: int  # 1-based line of the heading in the card file
    start: int  # index in ``ParsedCard.lines`` of the first line under the heading
    own_end: int
    full_end: int
    key: str = ""  # the heading reduced for matching (``heading_key``)

    @property
    def location(self) -> str:
        """Where a curator finds it: the heading path, e.g. ``Training Details > Training Data``."""
        return " > ".join(p or "(untitled heading)" for p in self.path) if self.path else "(top of card)"


@dataclass(frozen=True)
class Label:
    """A ``- **Developed by:** Acme`` style line: the card's own key/value prose."""

    section: int  # index into ParsedCard.sections
    label: str
    value: str
    line: int
    key: str = ""  # the label reduced for matching (``heading_key``)


@dataclass
class ParsedCard:
    """Everything later steps need from the card, plus what was wrong with it."""

    name: str
    present: bool = False
    size: int = 0
    sha256: str = ""
    truncated: bool = False
    has_front_matter: bool = False
    metadata_readable: bool = True
    metadata: dict[str, Any] = field(default_factory=dict)
    key_lines: dict[str, int] = field(default_factory=dict)
    lines: list[str] = field(default_factory=list)
    body_line: int = 1  # card line number of lines[0]
    sections: list[Section] = field(default_factory=list)
    labels: list[Label] = field(default_factory=list)
    problems: list[Finding] = field(default_factory=list)
    heading_lines: set[int] = field(default_factory=set)  # indices of heading (and underline) lines
    _searchable: tuple[str, list[int]] | None = field(default=None, repr=False)

    def own_text(self, section: Section) -> str:
        return "\n".join(self.lines[section.start:section.own_end])

    def full_text(self, section: Section) -> str:
        """The section and its subsections, without the subsection headings themselves."""
        return "\n".join(line for index, line in
                         enumerate(self.lines[section.start:section.full_end], section.start)
                         if index not in self.heading_lines)

    def line_of(self, index: int) -> int:
        return self.body_line + index

    def searchable(self) -> tuple[str, list[int]]:
        """The body with each line cut at ``MAX_LINE_CHARS``, and where each line starts.

        Checklist patterns run over this in one pass (C speed) instead of line by line.
        """
        if self._searchable is None:
            offsets, position = [], 0
            for line in self.lines:
                offsets.append(position)
                position += min(len(line), MAX_LINE_CHARS) + 1
            text = "\n".join(line[:MAX_LINE_CHARS] for line in self.lines)
            self._searchable = (text, offsets)
        return self._searchable


def read_card_bytes(path: Path, max_bytes: int = DEFAULT_MAX_BYTES) -> tuple[bytes, int]:
    """At most ``max_bytes + 1`` bytes of the file, and its full size."""
    with path.open("rb") as handle:
        size = path.stat().st_size
        return handle.read(max_bytes + 1), size


def _decode(data: bytes, name: str, truncated: bool) -> tuple[str, Finding | None]:
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        return data.decode("utf-8"), None
    except UnicodeDecodeError as exc:
        # a cut at the byte cap may split one character: that is not the card's fault
        if truncated and exc.start >= len(data) - 3:
            return data[: exc.start].decode("utf-8", errors="replace"), None
        text = data.decode("utf-8", errors="replace")
        return text, Finding(Severity.LOW, "card-not-utf8",
                             f"{name} is not valid UTF-8 (first bad byte at offset {exc.start}); "
                             "bad bytes were replaced with U+FFFD: read the card with care",
                             file=name)


def parse_card(data: bytes, name: str = "README.md", max_bytes: int = DEFAULT_MAX_BYTES,
               size: int | None = None) -> ParsedCard:
    """Parse card bytes; never raises for any input."""
    size = len(data) if size is None else size
    card = ParsedCard(name=name, present=True, size=size,
                      sha256=hashlib.sha256(data[:max_bytes]).hexdigest())
    card.truncated = len(data) > max_bytes or size > max_bytes
    if card.truncated:
        data = data[:max_bytes]
        card.problems.append(Finding(
            Severity.MEDIUM, "card-too-large",
            f"{name} is {size} bytes; only the first {max_bytes} were read, so evidence past that "
            "point is not graded: read the rest by hand or raise card.max_card_bytes", file=name))
    text, bad = _decode(data, name, card.truncated)
    if bad:
        card.problems.append(bad)
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    body = _split_front_matter(card, text)
    card.lines = body.split("\n")
    _sections(card)
    _labels(card)
    return card


def _split_front_matter(card: ParsedCard, text: str) -> str:
    from huggingface_hub.repocard import REGEX_YAML_BLOCK  # the hub server's own rule

    match = REGEX_YAML_BLOCK.search(text)
    if match is None:
        if text.lstrip().startswith("---\n"):
            card.problems.append(Finding(
                Severity.LOW, "card-front-matter-unterminated",
                f"{card.name} opens a YAML block with '---' but never closes it; the hub shows no "
                "metadata for it: ask the publisher to close the block", file=card.name))
        return text
    card.has_front_matter = True
    first_line = text.count("\n", 0, match.start(2)) + 1
    found = read_front_matter(match.group(2), first_line, card.name)
    card.metadata, card.key_lines, card.metadata_readable = (found.metadata, found.key_lines,
                                                             found.readable)
    card.problems.extend(found.problems)
    if card.metadata:
        rejected = hub_reading(card.metadata, card.name)
        if rejected:
            card.problems.append(rejected)
    card.body_line = text.count("\n", 0, match.end()) + 1
    return text[match.end():]


def _heading_at(lines: list[str], index: int, in_paragraph: bool) -> tuple[int, str, bool] | None:
    """(level, title, setext) if ``lines[index]`` starts a heading."""
    line = lines[index][:MAX_LINE_CHARS]
    atx = _ATX.match(line)
    if atx:
        return len(atx.group(1)), atx.group(2) or "", False
    html = _HTML_HEADING.match(line)
    if html:
        return int(html.group(1)), html.group(2), False
    if in_paragraph and index + 1 < len(lines):
        underline = _SETEXT.match(lines[index + 1][:MAX_LINE_CHARS])
        if underline:
            return (1 if underline.group(1)[0] == "=" else 2), line, True
    return None


def _sections(card: ParsedCard) -> None:
    lines = card.lines
    starts: list[tuple[int, int, str, int]] = [(0, 0, "", -1)]  # (level, start, title, line idx)
    fence = ""
    index = 0
    while index < len(lines):
        line = lines[index][:MAX_LINE_CHARS]
        opener = _FENCE.match(line)
        if fence:
            if opener and opener.group(1)[0] == fence[0] and len(opener.group(1)) >= len(fence):
                fence = ""
            index += 1
            continue
        if opener:
            fence = opener.group(1)
            index += 1
            continue
        in_paragraph = not _NOT_PARAGRAPH.match(line)
        found = _heading_at(lines, index, in_paragraph) if len(starts) < MAX_SECTIONS else None
        if found:
            level, title, setext = found
            skip = 2 if setext else 1
            starts.append((level, index + skip, collapse(strip_markup(title))[:200], index))
            card.heading_lines.update(range(index, index + skip))
            index += skip
            continue
        index += 1
    full_ends = [len(lines)] * len(starts)
    open_levels: list[int] = []  # indices into starts, levels increasing
    for number, (level, _, _, at) in enumerate(starts):
        while open_levels and starts[open_levels[-1]][0] >= level:
            full_ends[open_levels.pop()] = at
        if level:
            open_levels.append(number)
    path: list[tuple[int, str]] = []
    for number, (level, start, title, at) in enumerate(starts):
        next_start = starts[number + 1][3] if number + 1 < len(starts) else len(lines)
        while path and path[-1][0] >= level:
            path.pop()
        if level:
            path.append((level, title))
        card.sections.append(Section(
            heading=title, level=level, path=tuple(t for _, t in path),
            line=card.line_of(at) if at >= 0 else card.body_line, start=start,
            own_end=max(start, next_start), full_end=max(start, full_ends[number]),
            key=heading_key(title)))


def _labels(card: ParsedCard) -> None:
    for number, section in enumerate(card.sections):
        for index in range(section.start, section.own_end):
            line = card.lines[index][:MAX_LINE_CHARS]
            if ":" not in line and "：" not in line:
                continue
            match = _BOLD_LABEL.match(line) or _PLAIN_LABEL.match(line)
            if match:
                label = collapse(match.group(1))
                card.labels.append(Label(number, label, match.group(2).strip(),
                                         card.line_of(index), heading_key(label)))
                if len(card.labels) >= MAX_LABELS:
                    return
