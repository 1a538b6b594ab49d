"""`curator card PATH`: the card stage alone, on a model folder or a README.md."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Annotated, Any

import typer

from curator.cli.app import app, emit_json, say, workspace
from curator.core.errors import CuratorError, UsageError
from curator.core.text import markup

GLYPHS = {"verified": "[green]✔ verified[/]", "declared": "[yellow]◐ declared[/]",
          "missing": "[red]✘ missing[/]"}


@app.command()
def card(
    path: Annotated[Path, typer.Argument(help="A model folder, or its README.md.")],
    repo_id: Annotated[str | None, typer.Option(
        "--repo-id", help="The hub id ORG/NAME the model claims to be (checks look-alike names).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON document on stdout.")] = False,
) -> None:
    """Grade a model card: five provenance fields, eval claims, license, lineage, look-alikes.

    Exit 0 when the card passes or warns, 1 when it fails, 2 on a usage error.
    """
    from curator.core.models import Candidate, Status
    from curator.core.policy import Policy
    from curator.core.progress import Progress
    from curator.core.stage import ReviewContext
    from curator.ledger.standings import standings
    from curator.stages.card import examine_folder

    if not path.exists():
        raise UsageError(f"no such file or folder: {path}", "pass a model folder or its README.md")
    target = path.resolve()
    folder = target if target.is_dir() else target.parent
    card_file = None if target.is_dir() else target
    candidate = Candidate(repo_id=repo_id or f"local/{folder.name}", revision="local",
                          source="local", path=str(folder))
    ledger = _ledger(quiet=as_json)
    try:
        ctx = ReviewContext(review_id="card", candidate=candidate, files_dir=folder,
                            work_dir=folder, policy=Policy.load(), standings=standings(ledger))
        report = examine_folder(ctx, Progress("card", [], threading.Event()), card_file)
    finally:
        if ledger is not None:
            ledger.close()
    document = {"path": str(path), **report.to_dict()}
    if as_json:
        emit_json(document)
    else:
        _say(document)
    raise typer.Exit(0 if report.status in (Status.PASSED, Status.WARNED) else 1)


def _ledger(quiet: bool) -> Any:
    """The workspace ledger (approved base models, inventory), or None if it cannot be opened.

    Grading a card needs no workspace; without one, lineage just finds nothing approved.
    """
    from curator.ledger import open_ledger

    try:
        return open_ledger(workspace())
    except CuratorError as exc:
        if not quiet:
            say(f"[yellow]no ledger ({markup(exc.diagnostics())}); base models count as not approved[/]")
        return None


def _say(doc: dict[str, Any]) -> None:

    card = doc["card"]
    say(f"[bold]{markup(doc['path'])}[/]: card [bold]{doc['status']}[/]"
        + ("" if card["present"] else " (no model card)"))
    for grade in doc["fields"].values():
        where = grade["evidence"][0] if grade["evidence"] else None
        detail = (f"{where['location']}: {where['excerpt'][:90]}" if where else grade["note"])
        say(f"  {GLYPHS[grade['status']]} {markup(grade['title']):<18} {markup(detail)}")
    lic = doc["license"]
    say(f"  license: {markup(lic['id'] or '-')} -> [bold]{lic['verdict']}[/]"
        + (f" ({markup(lic['link'])})" if lic["link"] else ""))
    bases = doc["lineage"]["bases"]
    if bases:
        chain = ", ".join(f"{b['repo_id']}{'' if b['approved'] else ' (not approved)'}"
                          for b in bases)
        say(f"  lineage: {markup(doc['lineage']['relation'] or 'derived')} from {markup(chain)}")
    if doc["claims"]:
        say(f"  claims: {len(doc['claims'])} from model-index")
    for finding in doc["findings"]:
        say(markup(f"  [{finding['severity']}] {finding['code']}: {finding['message']}"))
    for reason in doc["summary"]:
        say(f"  - {markup(reason)}")
