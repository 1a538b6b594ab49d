"""JSON that names Python objects for its loader to import, build or call: jsonpickle and skops.

``jsonpickle.decode`` imports ``py/object``, ``py/type`` and ``py/function`` names, calls the
first item of a ``py/reduce`` and evaluates ``py/repr``; ``skops.io.load`` imports every node's
``__module__``/``__class__`` and calls a ``ReduceNode``'s. Such a file is a pickle written as
text, and its names are judged against the same allow-list and dangerous floor as a pickle's.
"""

from __future__ import annotations

from curator.core.models import Finding, Severity
from curator.stages.scan.rules import GlobalRules

#: jsonpickle keys whose string value names an object it imports
JSONPICKLE_NAMES = ("py/object", "py/type", "py/function", "py/mod")
#: skops node loaders that call what they name (the others import and build it)
SKOPS_CALLS = frozenset({"ReduceNode", "MethodNode", "OperatorFuncNode", "PartialNode"})
MAX_NODES = 1_000_000


def object_references(doc: object) -> list[tuple[str, str]]:
    """(dotted name, how: import | call | eval) of every object a jsonpickle or skops document names."""
    found: list[tuple[str, str]] = []
    stack, seen = [doc], 0
    while stack and seen < MAX_NODES:
        node = stack.pop()
        seen += 1
        if isinstance(node, list):
            stack.extend(node)
            continue
        if not isinstance(node, dict):
            continue
        stack.extend(node.values())
        found += [(node[k], "import") for k in JSONPICKLE_NAMES if isinstance(node.get(k), str)]
        if isinstance(node.get("py/repr"), str):
            found.append((node["py/repr"], "eval"))
        reduce = node.get("py/reduce")
        if isinstance(reduce, list) and reduce and isinstance(reduce[0], dict):
            found += [(reduce[0][k], "call") for k in ("py/function", "py/type")
                      if isinstance(reduce[0].get(k), str)]
        module, name = node.get("__module__"), node.get("__class__")
        if isinstance(module, str) and isinstance(name, str):
            found.append((f"{module}.{name}", "call" if node.get("__loader__") in SKOPS_CALLS else "import"))
    return found


def check_json_objects(doc: object, rules: GlobalRules, where: str) -> list[Finding]:
    """Dangerous names are critical whatever is done with them; a call of a name outside the
    allow-list is high; ``py/repr`` is ``eval`` and always critical."""
    findings: dict[tuple[str, str], Finding] = {}
    for dotted, how in object_references(doc):
        if how == "eval":
            findings[(dotted, how)] = Finding(Severity.CRITICAL, "json-object-code",
                                              f"{where}: jsonpickle py/repr {dotted[:120]!r} is "
                                              "evaluated as Python")
        elif _dangerous(dotted, rules):
            findings[(dotted, how)] = Finding(Severity.CRITICAL, "json-dangerous-object",
                                              f"{where}: names {dotted[:200]!r} for its loader to {how}")
        elif how == "call" and not _allowed(dotted, rules):
            findings[(dotted, how)] = Finding(Severity.HIGH, "json-unknown-call",
                                              f"{where}: has its loader call {dotted[:200]!r}, which the "
                                              "policy does not allow")
    return list(findings.values())


def _splits(dotted: str) -> list[tuple[str, str]]:
    """Every (module, attribute path) reading of ``a.b.c``: loaders try the longest importable module."""
    parts = dotted.replace(":", ".").replace("/", ".").split(".")
    return [(".".join(parts[:i]), ".".join(parts[i:])) for i in range(1, len(parts))]


def _dangerous(dotted: str, rules: GlobalRules) -> bool:
    return any(rules.reaches_danger(module, name) for module, name in _splits(dotted))


def _allowed(dotted: str, rules: GlobalRules) -> bool:
    return any(rules.is_safe(module, name) for module, name in _splits(dotted))
