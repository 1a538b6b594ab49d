"""Chat-template inspection: a chat template formats messages; it never needs Python's insides.

Templates run in the loader's Jinja engine (transformers, llama.cpp, vLLM ...). Some of those
engines are sandboxed, some were not (CVE-2024-34359). Parsed with Jinja's own parser, never
rendered; what it reaches for is judged on the syntax tree.
"""

from __future__ import annotations

import functools
import inspect
import re
import string
from types import ModuleType
from typing import Any

from curator.core.models import Finding, Severity

#: Python internals a template can climb through to reach os, builtins or frames
INTERNAL_ATTRS = {"mro", "func_globals", "func_code", "gi_frame", "gi_code", "f_globals", "f_locals",
                  "f_builtins", "f_back", "co_code", "tb_frame", "cr_frame", "ag_frame"}
#: names that mean code execution once reached
EXEC_NAMES = {"os", "sys", "popen", "system", "subprocess", "eval", "exec", "import_module", "builtins",
              "getattr", "setattr", "globals", "locals", "compile", "open", "__import__"}
#: Jinja globals whose only use in a chat template is as a door to their Python internals
DOOR_GLOBALS = {"self", "cycler", "joiner", "lipsum", "config", "request", "url_for",
                "get_flashed_messages"}


class TemplateUnreadable(Exception):
    """The template does not parse: no verdict can be given on it."""


def check_template(source: str, where: str) -> list[Finding]:
    """Findings for one chat template; raises ``TemplateUnreadable`` if Jinja cannot parse it."""
    import jinja2
    from jinja2 import nodes

    env = _environment()
    try:
        tree = env.parse(source)
    except jinja2.TemplateSyntaxError as exc:
        raise TemplateUnreadable(f"{where}: chat template does not parse "
                                 f"(line {exc.lineno}: {exc.message})") from exc
    findings: list[Finding] = []
    assigned = {n.name for n in tree.find_all(nodes.Name) if n.ctx in ("store", "param")}
    built = _Built(tree, nodes)
    for node in tree.find_all(nodes.Node):
        problem = _judge(node, nodes, assigned) or _judge_lookup(node, nodes, built)
        if problem is not None:
            severity, what = problem
            findings.append(Finding(severity, "template-injection" if severity == Severity.CRITICAL
                                    else "template-suspicious", f"{where}: chat template {what} "
                                    f"(line {getattr(node, 'lineno', '?')})"))
    return _dedupe(findings)


def _judge(node: Any, nodes: ModuleType, assigned: set[str]) -> tuple[Severity, str] | None:
    if isinstance(node, nodes.Getattr):
        return _judge_name(str(node.attr), "reaches attribute")
    if isinstance(node, nodes.Getitem):
        key = _constant(node.arg, nodes)
        return _judge_name(key, "reaches item") if isinstance(key, str) else None
    if isinstance(node, nodes.Filter) and node.name == "attr":
        return Severity.HIGH, "uses the attr filter to build attribute names at run time"
    if (isinstance(node, nodes.Name) and node.name in DOOR_GLOBALS and node.ctx == "load"
            and node.name not in assigned):
        return Severity.HIGH, f"uses the Jinja global {node.name!r}, a door to Python internals"
    if isinstance(node, nodes.Import | nodes.FromImport | nodes.Include | nodes.Extends):
        return Severity.HIGH, "loads other templates"
    return None


#: filters that take attribute names through ``*args`` (their signature does not name the parameter)
STAR_ATTRIBUTE_FILTERS = {"selectattr", "rejectattr"}
#: filters whose result is a number or a boolean: never a name
NUMERIC_FILTERS = {"length", "count", "int", "float", "abs", "round", "wordcount"}


def _judge_lookup(node: Any, nodes: ModuleType, built: _Built) -> tuple[Severity, str] | None:
    """Lookups by a name the template computes: Jinja's ``x[key]`` falls back to ``getattr`` (and
    ``map(attribute=...)`` walks a dotted path), so a key put together at run time reaches
    ``__globals__`` as surely as ``x.__globals__`` does, without ever spelling it."""
    if isinstance(node, nodes.Getitem) and not isinstance(node.arg, nodes.Const):
        if built.computed(node.arg):
            return Severity.HIGH, "looks up an item or attribute by a name built at run time"
        return None
    if (isinstance(node, nodes.Call) and isinstance(node.node, nodes.Getattr)
            and node.node.attr in ("format", "format_map")):
        return _judge_format(node.node.node, nodes, built)
    if not isinstance(node, nodes.Filter):
        return None
    if node.name == "map" and node.args and not (isinstance(node.args[0], nodes.Const)
                                                 and node.args[0].value != "attr"):
        return Severity.HIGH, "maps the attr filter (or a filter chosen at run time) over values"
    where = _attribute_parameter(node.name)
    if where is None:
        return None
    if node.dyn_args is not None or node.dyn_kwargs is not None:
        return Severity.HIGH, f"{node.name} filter takes its arguments from a * or ** expansion"
    position, keyword = where
    arg = node.args[position] if position is not None and len(node.args) > position else None
    if arg is None and keyword is not None:
        arg = next((k.value for k in node.kwargs if k.key == keyword), None)
    if arg is None:
        return None
    if isinstance(arg, nodes.Const):
        for part in str(arg.value).split("."):
            problem = _judge_name(part, f"{node.name} filter reaches attribute")
            if problem is not None and problem[0] == Severity.CRITICAL:
                return problem
        return None
    if built.computed(arg):
        return Severity.HIGH, f"{node.name} filter looks up an attribute by a name built at run time"
    return None


@functools.cache
def _attribute_parameter(name: str) -> tuple[int | None, str | None] | None:
    """Where filter ``name`` takes the attribute (dotted path) it looks up: (position among the
    template's arguments, keyword), read from the engine's own filter signature so that every
    filter taking an ``attribute`` (sort, join, groupby, min, unique, ...) is covered, by
    keyword and by position; None if it takes none."""
    from jinja2.filters import FILTERS

    if name in STAR_ATTRIBUTE_FILTERS:
        return 0, None
    func = FILTERS.get(name)
    if func is None:
        return None
    params = list(inspect.signature(func).parameters.values())
    if getattr(func, "jinja_pass_arg", None) is not None:
        params = params[1:]  # the environment / context the engine passes itself
    params = params[1:]  # the value being filtered
    if name == "map":
        return None, "attribute"
    for index, param in enumerate(params):
        if param.name == "attribute":
            positional = param.kind in (param.POSITIONAL_ONLY, param.POSITIONAL_OR_KEYWORD)
            return (index if positional else None), "attribute"
    return None


class _Built:
    """Which expressions of a template compute a value in the template itself (as opposed to reading
    the render context: messages, tools, tokens), following ``set``, ``for``, ``with`` and macro names."""

    def __init__(self, tree: Any, nodes: ModuleType) -> None:
        self.nodes = nodes
        self.bindings: dict[str, list[Any]] = {}
        for node in tree.find_all((nodes.Assign, nodes.AssignBlock, nodes.For, nodes.With, nodes.Macro,
                                   nodes.CallBlock)):
            if isinstance(node, nodes.Assign):
                self._bind(node.target, node.node)
                if isinstance(node.node, nodes.Call) and _is_name(node.node.node, nodes, "namespace") \
                        and isinstance(node.target, nodes.Name):
                    for kw in node.node.kwargs:
                        self.bindings.setdefault(f"{node.target.name}.{kw.key}", []).append(kw.value)
            elif isinstance(node, nodes.AssignBlock):
                self._bind(node.target, None)
            elif isinstance(node, nodes.For):
                self._bind(node.target, node.iter)
            elif isinstance(node, nodes.With):
                for target, value in zip(node.targets, node.values, strict=False):
                    self._bind(target, value)
            else:  # macro and call-block parameters: whatever a caller passes
                for arg in node.args:
                    self._bind(arg, None)

    def _bind(self, target: Any, value: Any) -> None:
        nodes = self.nodes
        if isinstance(target, nodes.NSRef):
            self.bindings.setdefault(f"{target.name}.{target.attr}", []).append(value)
        elif isinstance(target, nodes.Name):
            self.bindings.setdefault(target.name, []).append(value)
        elif isinstance(target, nodes.Tuple):
            for item in target.items:
                self._bind(item, value)

    def computed(self, node: Any, seen: frozenset[str] = frozenset()) -> bool:
        """True unless ``node`` is a constant with a plain name, arithmetic, or a path into the context."""
        nodes = self.nodes
        if node is None:
            return True  # a block body or a macro argument: anything
        if isinstance(node, nodes.Const):
            return isinstance(node.value, str) and _judge_name(node.value, "") is not None
        if isinstance(node, nodes.Name):
            return self._bound(node.name, seen)
        if isinstance(node, nodes.Getattr):
            if isinstance(node.node, nodes.Name) and f"{node.node.name}.{node.attr}" in self.bindings:
                return self._bound(f"{node.node.name}.{node.attr}", seen)
            return self.computed(node.node, seen)
        if isinstance(node, nodes.Getitem):
            return self.computed(node.node, seen) or (not isinstance(node.arg, nodes.Const)
                                                       and self.computed(node.arg, seen))
        if isinstance(node, nodes.Slice):
            return any(self.computed(p, seen) for p in (node.start, node.stop, node.step) if p is not None)
        if isinstance(node, nodes.BinExpr):
            sides = (node.left, node.right)
            if any(isinstance(side, nodes.Const) and isinstance(side.value, str) for side in sides):
                return True  # pieces of a name put together
            return any(self.computed(side, seen) for side in sides)
        if isinstance(node, nodes.Neg | nodes.Pos):
            return self.computed(node.node, seen)
        if isinstance(node, nodes.Compare | nodes.Test | nodes.Not):
            return False  # a boolean
        # string building (~, join, format, string, replace, ...), calls, literals: built here
        return not (isinstance(node, nodes.Filter) and node.name in NUMERIC_FILTERS)

    def _bound(self, name: str, seen: frozenset[str]) -> bool:
        if name not in self.bindings:
            return False  # the render context's own value
        if name in seen:
            return True
        return any(self.computed(v, seen | {name}) for v in self.bindings[name])


def _is_name(node: Any, nodes: ModuleType, name: str) -> bool:
    return isinstance(node, nodes.Name) and node.name == name


def _judge_name(name: str, what: str) -> tuple[Severity, str] | None:
    if name.startswith("_") or name in INTERNAL_ATTRS or name in EXEC_NAMES:
        return Severity.CRITICAL, f"{what} {name!r}"
    if name in ("format", "format_map"):
        return Severity.MEDIUM, f"{what} {name!r} (str.format can walk attributes)"
    return None


def _judge_format(receiver: Any, nodes: ModuleType, built: _Built) -> tuple[Severity, str] | None:
    """The format string of ``receiver.format(...)``: a constant (or a name set to constants) is
    judged field by field; one put together at run time could name any attribute."""
    values = built.bindings.get(receiver.name, []) if isinstance(receiver, nodes.Name) else [receiver]
    for value in values:
        spec = _constant(value, nodes)
        if isinstance(spec, str):
            problem = _judge_format_fields(spec)
            if problem is not None:
                return problem
        elif built.computed(value):
            return Severity.HIGH, "calls str.format with a format string built at run time"
    return None


def _judge_format_fields(spec: str, depth: int = 0) -> tuple[Severity, str] | None:
    """``"{0.__init__.__globals__[os].environ}".format(x)``: str.format walks attributes and items
    named in its replacement fields (an unsandboxed engine lets it read any secret in reach)."""
    try:
        parsed = list(string.Formatter().parse(spec))
    except ValueError:
        return None  # the engine's str.format raises on it too
    for _, field_name, format_spec, _ in parsed:
        if field_name:
            # "0.attr[key].attr": what follows the argument, as str.format splits it
            parts = [a or k for a, k in re.findall(r"\.([^.\[]*)|\[([^\]]*)\]", field_name)]
            for part in parts:
                problem = _judge_name(part, "formats a field that reaches")
                if problem is not None and problem[0] == Severity.CRITICAL:
                    return problem
        if format_spec and depth < 2:
            problem = _judge_format_fields(format_spec, depth + 1)
            if problem is not None:
                return problem
    return None


def _constant(node: Any, nodes: ModuleType) -> Any:
    """Fold constant strings (``'__glo' ~ 'bals__'``) the way the engine would at run time."""
    if isinstance(node, nodes.Const):
        return node.value
    if isinstance(node, nodes.Concat):
        parts = [_constant(n, nodes) for n in node.nodes]
        return "".join(parts) if all(isinstance(p, str) for p in parts) else None
    if isinstance(node, nodes.Add):
        left, right = _constant(node.left, nodes), _constant(node.right, nodes)
        return left + right if isinstance(left, str) and isinstance(right, str) else None
    return None


def _environment() -> Any:
    from jinja2 import nodes
    from jinja2.ext import Extension, loopcontrols
    from jinja2.sandbox import ImmutableSandboxedEnvironment

    class Generation(Extension):
        """transformers' ``{% generation %}`` block (assistant masks); parsed, never rendered."""

        tags = {"generation"}  # noqa: RUF012 - Extension's own class attribute

        def parse(self, parser: Any) -> Any:
            lineno = next(parser.stream).lineno
            body = parser.parse_statements(("name:endgeneration",), drop_needle=True)
            return nodes.Scope(body, lineno=lineno)

    return ImmutableSandboxedEnvironment(extensions=[loopcontrols, Generation])


def _dedupe(findings: list[Finding]) -> list[Finding]:
    seen: set[str] = set()
    out = []
    for f in findings:
        key = f.message.rsplit(" (line", 1)[0]
        if key not in seen:
            seen.add(key)
            out.append(f)
    return out


def templates_in_json(doc: object) -> list[tuple[str, str]]:
    """(label, source) of every chat template a tokenizer/processor config carries."""
    found: list[tuple[str, str]] = []
    if not isinstance(doc, dict):
        return found
    value = doc.get("chat_template")
    if isinstance(value, str):
        found.append(("chat_template", value))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            if isinstance(item, dict) and isinstance(item.get("template"), str):
                found.append((f"chat_template[{item.get('name', i)}]", item["template"]))
    elif isinstance(value, dict):
        found += [(f"chat_template[{k}]", v) for k, v in value.items() if isinstance(v, str)]
    return found
