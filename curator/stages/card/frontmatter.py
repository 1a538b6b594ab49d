"""The card's YAML front matter, read defensively: a hostile card yields findings, never a crash.

libyaml's composer recurses in C and segfaults past ~50,000 nested collections, and an
alias bomb is tiny on disk but huge once walked; so the event stream is checked for depth
and size first (libyaml's parser itself is iterative), then the node graph is walked with
a budget before anything is constructed.
"""

from __future__ import annotations

import datetime
import math
from dataclasses import dataclass, field
from typing import Any

import yaml

from curator.core.models import Finding, Severity

MAX_DEPTH = 64
MAX_EVENTS = 100_000
MAX_NODES = 20_000
#: how libyaml words its own nesting limit ("exceeded maximum nesting depth")
_DEPTH_REFUSAL = "nesting depth"

_Base: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@dataclass
class FrontMatter:
    """What the YAML block said, where each key sits, and what was wrong with it."""

    metadata: dict[str, Any] = field(default_factory=dict)
    key_lines: dict[str, int] = field(default_factory=dict)  # "model-index[0].results" -> line
    problems: list[Finding] = field(default_factory=list)
    readable: bool = True


class CardYamlLoader(_Base):  # type: ignore[misc]
    """A safe loader that also records duplicate keys and the line of every key path."""

    def compose_checked(self, first_line: int, name: str) -> tuple[Any, FrontMatter]:
        """Compose the single document and walk it; raises yaml errors as PyYAML does."""
        node = self.get_single_node()
        found = FrontMatter()
        if node is not None:
            self._walk(node, first_line, name, found)
        return node, found

    def _walk(self, root: object, first_line: int, name: str, found: FrontMatter) -> None:
        stack: list[tuple[Any, str]] = [(root, "")]
        visits = 0
        while stack:
            node, path = stack.pop()
            visits += 1
            if visits > MAX_NODES:
                found.readable = False
                found.problems.append(Finding(
                    Severity.MEDIUM, "card-metadata-too-complex",
                    f"{name}: the front matter expands to more than {MAX_NODES} values (aliases "
                    "or sheer size); it was not read: ask the publisher for a plain card", file=name))
                return
            if isinstance(node, yaml.MappingNode):
                seen: dict[str, int] = {}
                for key_node, value_node in node.value:
                    key = str(key_node.value) if isinstance(key_node, yaml.ScalarNode) else "?"
                    line = first_line + key_node.start_mark.line
                    child = f"{path}.{key}" if path else key
                    if key in seen and key != "<<":
                        found.problems.append(Finding(
                            Severity.MEDIUM, "card-metadata-duplicate-key",
                            f"{name} line {line}: key '{child}' appears again (first at line "
                            f"{seen[key]}); tools disagree on which value counts: ask the publisher "
                            "to fix the card, and read both values", file=name))
                    seen.setdefault(key, line)
                    found.key_lines.setdefault(child, line)
                    stack.append((value_node, child))
            elif isinstance(node, yaml.SequenceNode):
                for index, item in enumerate(node.value):
                    child = f"{path}[{index}]"
                    found.key_lines.setdefault(child, first_line + item.start_mark.line)
                    stack.append((item, child))


def _too_deep(text: str) -> str | None:
    """Why the YAML may not be composed (too deep, too many events), or None.

    libyaml has a nesting limit of its own and its scanner may read far ahead of the events
    it hands out, so its refusal can come before curator's count reaches the cap: a refusal
    for depth is the same answer as the cap, whichever comes first.
    """
    depth = 0
    too_deep = f"nested more than {MAX_DEPTH} levels deep"
    try:
        for events, event in enumerate(yaml.parse(text, Loader=_Base), 1):
            if isinstance(event, yaml.CollectionStartEvent):
                depth += 1
                if depth > MAX_DEPTH:
                    return too_deep
            elif isinstance(event, yaml.CollectionEndEvent):
                depth -= 1
            if events > MAX_EVENTS:
                return f"more than {MAX_EVENTS} YAML events"
    except yaml.YAMLError as exc:
        if _DEPTH_REFUSAL in str(exc):
            return too_deep
        raise
    except RecursionError:
        return too_deep
    return None


def plain(value: object, budget: list[int]) -> Any:
    """A constructed YAML value as plain JSON data (str keys, no dates, bytes or NaN)."""
    budget[0] -= 1
    if budget[0] < 0:
        return None
    if isinstance(value, dict):
        return {str(k): plain(v, budget) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [plain(v, budget) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, datetime.date | datetime.datetime):
        return value.isoformat()
    if isinstance(value, bytes):
        return f"<{len(value)} bytes>"
    return str(value)


def read_front_matter(block: str, first_line: int, name: str) -> FrontMatter:
    """Parse the YAML block that starts at ``first_line`` of the card named ``name``."""
    def broken(code: str, why: str) -> FrontMatter:
        return FrontMatter(readable=False, problems=[Finding(
            Severity.MEDIUM, code, f"{name}: the front matter {why}; its metadata was ignored: "
            "ask the publisher to fix the card", file=name)])

    try:
        reason = _too_deep(block)
        if reason:
            return broken("card-metadata-too-complex", f"is {reason}")
        loader = CardYamlLoader(block)
        try:
            node, found = loader.compose_checked(first_line, name)
            if not found.readable or node is None:
                return found
            data = loader.construct_document(node)
        finally:
            loader.dispose()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f" at line {first_line + mark.line}" if mark is not None else ""
        return broken("card-metadata-malformed", f"is not valid YAML{where} ({exc.problem or exc})")
    except (yaml.YAMLError, ValueError, TypeError, OverflowError, RecursionError) as exc:
        # ValueError: ints past Python's digit limit, impossible dates; TypeError: odd keys
        return broken("card-metadata-malformed", f"cannot be read ({type(exc).__name__}: "
                      f"{str(exc)[:160]})")
    if not isinstance(data, dict):
        return broken("card-metadata-not-a-mapping",
                      f"is a {type(data).__name__}, not a mapping of keys")
    found.metadata = plain(data, [MAX_NODES * 2])
    return found


def hub_reading(metadata: dict[str, Any], name: str) -> Finding | None:
    """How huggingface_hub's own ModelCardData takes the metadata: a finding if it refuses it.

    The hub shows eval results only from a model-index it can parse; a card whose
    model-index the library rejects is one whose scores nobody checked on the hub.
    """
    from huggingface_hub import ModelCardData

    # the card must not choose how the library reads it (it would log instead of raising)
    fields = {k: v for k, v in metadata.items() if k != "ignore_metadata_errors"}
    try:
        ModelCardData(**fields, ignore_metadata_errors=False)
    except (ValueError, TypeError, KeyError, AttributeError) as exc:
        return Finding(Severity.LOW, "card-metadata-hub-rejects",
                       f"{name}: huggingface_hub cannot read this metadata ({str(exc)[:200]}); "
                       "the hub will not show its eval results: treat them as unchecked", file=name,
                       tool="huggingface_hub")
    return None
