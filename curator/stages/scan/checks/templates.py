"""Chat-template inspection: a chat template formats messages; it never needs Python's insides.

Templates run in the loader's Jinja engine (transformers, llama.cpp, vLLM ...). Some of those
engines are sandboxed, some were not (CVE-2024-34359). Parsed with Jinja's own parser, never
rendered; what it reaches for is judged on the syntax tree.
"""

from __future__ import annotations

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
    for node in tree.find_all(nodes.Node):
        problem = _judge(node, nodes, assigned)
        if problem is not None:
            severity, what = problem
            findings.append(Finding(severity, "template-injection" if severity == Severity.CRITICAL
                                    else "template-suspicious", f"{where}: chat template {what} "
                                    f"(line {getattr(node, 'lineno', '?')})"))
    return _dedupe(findings)


def _judge(node: Any, nodes: Any, assigned: set[str]) -> tuple[Severity, str] | None:
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


def _judge_name(name: str, what: str) -> tuple[Severity, str] | None:
    if name.startswith("_") or name in INTERNAL_ATTRS or name in EXEC_NAMES:
        return Severity.CRITICAL, f"{what} {name!r}"
    if name in ("format", "format_map"):
        return Severity.MEDIUM, f"{what} {name!r} (str.format can walk attributes)"
    return None


def _constant(node: Any, nodes: Any) -> Any:
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


def templates_in_json(doc: Any) -> list[tuple[str, str]]:
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
