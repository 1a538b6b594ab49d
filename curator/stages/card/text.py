"""Small text tools for model cards: placeholders out, excerpts short, headings comparable."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

EXCERPT_CHARS = 240
#: a pattern line longer than this is cut before matching, so no team regex can go quadratic
MAX_LINE_CHARS = 2000

_COMMENT = re.compile(r"<!--.*?(?:-->|$)", re.S)
_JINJA = re.compile(r"\{\{[^{}\n]{0,400}\}\}|\{%[^{}\n]{0,400}%\}")
_LINK = re.compile(r"!?\[([^\]\n]{0,400})\]\([^)\s]{0,2000}(?:\s+\"[^\"\n]{0,200}\")?\)")
_TAG = re.compile(r"</?[A-Za-z][^<>\n]{0,400}>")
_DECORATION = re.compile(r"[*_`>#|~]+")
_BULLET = re.compile(r"^\s*(?:[-*+]|\d{1,3}[.)])\s+")
_SPACES = re.compile(r"\s+")
_RULE = re.compile(r"^[-:=\s]*$")  # table separators and horizontal rules
_OPTIONAL = re.compile(r"\[optional\]", re.I)
_HEADING_NOISE = re.compile(r"^[\W\d_]+|[^\w\s'&+-]+", re.U)


def collapse(text: str) -> str:
    """One line, single spaces."""
    return _SPACES.sub(" ", text).strip()


def excerpt(text: str, limit: int = EXCERPT_CHARS) -> str:
    """A short, single-line quote of ``text`` for evidence."""
    line = collapse(text)
    return line if len(line) <= limit else line[: limit - 1].rstrip() + "…"


def strip_markup(text: str) -> str:
    """Markdown/HTML decoration out, link texts kept, comments and template slots dropped."""
    text = _COMMENT.sub(" ", text)
    text = _JINJA.sub(" ", text)
    text = _LINK.sub(r"\1", text)
    text = _TAG.sub(" ", text)
    return _DECORATION.sub(" ", text)


def remove_placeholders(text: str, placeholders: Iterable[str]) -> str:
    """Drop every template placeholder (case-insensitive literal phrases, whole words only:
    "TODO" must not eat the Spanish "todos")."""
    lowered = text.lower()
    for phrase in placeholders:
        needle = phrase.lower()
        if not needle or needle not in lowered:
            continue
        pattern = ((r"(?<!\w)" if needle[0].isalnum() else "") + re.escape(needle)
                   + (r"(?!\w)" if needle[-1].isalnum() else ""))
        text = re.sub(pattern, " ", text, flags=re.I)
        lowered = text.lower()
    return _OPTIONAL.sub(" ", text)


def substance(text: str, placeholders: Iterable[str]) -> str:
    """What a piece of card text really says, or '' if it is only template and markup.

    A bullet that is only a label (``- **Developed by:**``) says nothing once its
    placeholder value is gone, so it is dropped too.
    """
    kept = []
    for raw in remove_placeholders(strip_markup(text), placeholders).splitlines():
        line = collapse(_BULLET.sub("", raw))
        if not line or _RULE.match(line) or (line.endswith(":") and len(line) <= 80):
            continue
        kept.append(line)
    return collapse(" ".join(kept))


def has_substance(text: str, placeholders: Iterable[str], min_chars: int) -> str:
    """``substance`` if it holds at least ``min_chars`` letters or digits, else ''."""
    said = substance(text, placeholders)
    return said if sum(ch.isalnum() for ch in said) >= min_chars else ""


def heading_key(heading: str) -> str:
    """A heading reduced for matching: lowercase, no emoji, numbering, '[optional]' or markup."""
    text = collapse(strip_markup(_OPTIONAL.sub(" ", heading)))
    text = unicodedata.normalize("NFKC", text).lower()
    return collapse(_HEADING_NOISE.sub(" ", text))


def phrase_in(phrase: str, key: str) -> bool:
    """Is ``phrase`` in ``key`` as whole words (or as a substring, for scripts without spaces)?"""
    if not phrase:
        return False
    if phrase == key:
        return True
    if phrase.isascii():
        return re.search(r"(?<!\w)" + re.escape(phrase) + r"(?!\w)", key) is not None
    return phrase in key
