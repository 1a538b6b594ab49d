"""Text from outside (a candidate, a hub, a registry, a scanner) shown as data, never as commands.

A file name, a card field or a scanner message may carry terminal escape sequences (move
the cursor, paint a green ✔, set a link), a newline that forges a line of output, Rich
markup (``[/]``, ``[link=…]``), or invisible characters that reorder or hide what is read
(bidi overrides, zero-width joiners). ``shown`` makes all of those visible; ``markup``
also escapes Rich markup for the places that build markup strings; ``text`` gives a Rich
``Text`` (never parsed as markup) for widgets and tables.
"""

from __future__ import annotations

import unicodedata
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rich.text import Text

#: characters with a name everyone reads; the rest of C0 become Unicode control pictures
NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t", "\x1b": "␛", "\x7f": "␡"}
#: Unicode categories that steer or hide text: controls, formats (bidi, zero-width, tags),
#: line/paragraph separators, surrogates
INVISIBLE = {"Cc", "Cf", "Zl", "Zp", "Cs"}


def _visible(char: str, keep_newlines: bool) -> str:
    if keep_newlines and char == "\n":
        return char
    if char in NAMED:
        return NAMED[char]
    code = ord(char)
    if code < 0x20:
        return chr(0x2400 + code)  # ␀ … ␟
    return f"⟨U+{code:04X}⟩"


def _needs_care(char: str) -> bool:
    return char in NAMED or unicodedata.category(char) in INVISIBLE


def shown(value: object, keep_newlines: bool = False) -> str:
    """``value`` as a plain string with every control, format and invisible character made visible.

    ``keep_newlines``: for multi-line text (a card shown whole); a single value keeps to one line.
    """
    string = value if isinstance(value, str) else str(value)
    if string.isascii() and string.isprintable():  # the common case, fast
        return string
    return "".join(_visible(c, keep_newlines) if _needs_care(c) else c for c in string)


def markup(value: object) -> str:
    """``shown(value)`` with Rich markup escaped: safe inside a markup string."""
    from rich.markup import escape

    return escape(shown(value))


def text(value: object, style: str = "", keep_newlines: bool = False) -> Text:
    """A Rich ``Text`` of ``shown(value)``: never parsed as markup."""
    from rich.text import Text

    return Text(shown(value, keep_newlines), style=style)
