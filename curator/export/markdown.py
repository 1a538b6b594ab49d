"""Outside text in a Markdown report: always literal, never a heading, link, image or HTML.

A card's ``base_model`` with a newline and ``# APPROVED`` must not become a heading; a file
name with backticks must not close its code span; ``<img onerror=…>`` and ``![](http://…)``
must not reach a renderer as HTML or an image. ``text`` backslash-escapes every character
that opens inline Markdown, HTML or an entity anywhere, and the ones that open a block at
the start of a value (CommonMark allows a backslash before any ASCII punctuation); ``code``
picks a fence longer than any backtick run in the value. Both go through ``shown`` first: no
control character, no newline, no invisible character survives.
"""

from __future__ import annotations

import re
from typing import Any

from curator.core.text import shown

#: inline syntax, HTML, entities, table pipes and headings wherever they are ('_' inside a word
#: cannot open emphasis, so curator_basics stays as it is)
_INLINE = re.compile(r"([\\`*\[\]<>!|~&#]|(?<![0-9A-Za-z])_|_(?![0-9A-Za-z]))")
#: list items, setext underlines, thematic breaks and ordered lists, when a value starts with them
_BLOCK_START = re.compile(r"^(\s*)([-+=]+|\d+[.)])(?=\s|$)")
_TICKS = re.compile("`+")


class Md(str):
    """A string that is already Markdown (built here from escaped parts)."""


def text(value: object) -> Md:
    """Literal inline text."""
    if isinstance(value, Md):
        return value
    plain = shown("" if value is None else value)
    escaped = _INLINE.sub(r"\\\1", plain)
    return Md(_BLOCK_START.sub(lambda m: f"{m[1]}{m[2][:-1]}\\{m[2][-1]}", escaped))


def code(value: object) -> Md:
    """A code span of ``value``, whatever backticks it holds."""
    plain = shown("" if value is None else value)
    longest = max((len(run) for run in _TICKS.findall(plain)), default=0)
    fence = "`" * (longest + 1)
    return Md(f"{fence} {plain} {fence}")


def cell(value: object) -> str:
    """A GFM table cell: literal text (or Markdown built here) with its pipes escaped, even in code."""
    md = value if isinstance(value, Md) else text(value)
    return re.sub(r"(?<!\\)\|", r"\\|", md)


def table(headers: list[str], rows: list[list[Any]], empty: str = "_none_") -> list[str]:
    if not rows:
        return [empty, ""]
    lines = ["| " + " | ".join(cell(h) for h in headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return [*lines, ""]
