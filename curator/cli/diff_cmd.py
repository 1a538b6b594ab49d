"""`curator diff A B`: what changed between two revisions (review ids or registry refs)."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from curator.cli.app import app, emit_json, say, workspace
from curator.cli.decide_cmd import RegistryOpt

Side = Annotated[str, typer.Argument(help="A review id, or NAME:TAG / NAME@sha256:HEX in the registry.")]


def _short(value: object) -> str:
    """A value as people read it: numbers to two decimals, lists joined, nothing as '—'."""
    if value is None or value == []:
        return "—"
    if isinstance(value, float):
        return f"{value:.2f}"
    if isinstance(value, list):
        return ", ".join(_short(v) for v in value)
    text = str(value)
    return text[:19] + "…" if text.startswith("sha256:") or len(text) > 40 else text


def _score(value: object, stderr: object) -> str:
    """'0.76 ± 0.04'; a stderr that is not a number (lm-eval's 'N/A') is left out."""
    if not isinstance(stderr, (int, float)) or isinstance(stderr, bool):
        return _short(value)
    return f"{_short(value)} ± {stderr:.2f}"


def _change(a: object, b: object) -> str:
    from curator.core.text import markup

    return f"{markup(_short(a))} → {markup(_short(b))}"


def _findings(stage: str, changes: dict[str, list[dict[str, Any]]]) -> list[str]:
    from curator.core.text import markup

    lines = []
    for mark, key in (("[red]+", "added"), ("[green]-", "removed")):
        lines += [f"  {mark} {stage} {markup(str(f['severity']))}[/] {markup(str(f['message']))}"
                  for f in changes.get(key, [])]
    return lines


def diff_lines(doc: dict[str, Any]) -> list[str]:
    """The diff as a curator reads it in a terminal (rich markup), highlights first."""
    from curator.core.text import markup

    lines = [f"[bold]{markup(doc['a']['label'])}[/] → [bold]{markup(doc['b']['label'])}[/]"]
    lines += [f"[bold red]! {markup(h['message'])}[/]" for h in doc["highlights"]]
    files = doc["files"]
    lines.append(f"files: {len(files['added'])} added, {len(files['removed'])} removed, "
                 f"{len(files['changed'])} changed, {files['unchanged']} unchanged")
    for mark, key in (("[green]+", "added"), ("[red]-", "removed")):
        lines += [f"  {mark} {markup(f['path'])}[/] {f['size']} bytes {f['sha256'][:12]}" for f in files[key]]
    lines += [f"  [yellow]~ {markup(f['path'])}[/] {f['a']['size']} → {f['b']['size']} bytes, "
              f"{f['a']['sha256'][:12]} → {f['b']['sha256'][:12]}" for f in files["changed"]]
    card = doc["card"]
    lines += [f"card {markup(row['field'])}: {_change(row['a'], row['b'])}" for row in card["fields"]]
    if card["base_models"]:
        lines.append(f"base models: {_change(card['base_models']['a'], card['base_models']['b'])}")
    lines += [f"claim {markup(c['claim'])}: {_change(c['a'], c['b'])}" for c in card["claims"]]
    lines += _findings("card", card.get("findings", {}))
    scan = doc["scan"]
    lines += [f"scan {markup(v['path'])}: {_change(v['a'], v['b'])}" for v in scan["verdicts"]]
    lines += [f"scanner {markup(s['scanner'])}: {_change(s['a'], s['b'])}" for s in scan["scanners"]]
    lines += _findings("scan", scan.get("findings", {}))
    for row in doc["eval"]:
        delta = f" ({row['delta']:+.3f})" if row["delta"] is not None else ""
        lines.append(f"eval {markup(str(row['task']))} {markup(str(row['metric']))}: "
                     f"{markup(_score(row['a'], row['a_stderr']))} → "
                     f"{markup(_score(row['b'], row['b_stderr']))}{delta}")
    lines += [f"[dim]{markup(n)}[/]" for n in doc["notes"]]
    return lines


@app.command("diff")
def diff(
    a: Side,
    b: Side,
    registry: RegistryOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON document on stdout.")] = False,
) -> None:
    """Compare two revisions: files, card, scan verdicts, signer, eval scores; signer and license first."""
    from curator.changes.diff import diff as compare
    from curator.changes.diff import load_side
    from curator.review.session import Session

    session = Session.open(workspace())
    try:
        doc = compare(load_side(session, a, registry), load_side(session, b, registry))
    finally:
        session.close()
    if as_json:
        emit_json(doc)
        return
    for line in diff_lines(doc):
        say(line)
