"""`curator policy check [DIR]`: every problem of a checklists folder, before a review trips on one."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer

from curator.cli.app import app, emit_json, say
from curator.core.text import markup

policy_app = typer.Typer(help="Check the policy: the checklists folder a review is judged by.",
                         no_args_is_help=True)
app.add_typer(policy_app, name="policy")


@policy_app.command("check")
def check(
    directory: Annotated[Path | None, typer.Argument(
        help="A checklists folder (default: $CURATOR_CHECKLISTS or the one shipped with curator).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON document on stdout.")] = False,
) -> None:
    """Validate default.yaml (every key and type) and the files it leans on: publishers.yaml,
    curators.yaml, licenses.yaml, provenance.yaml, evals/claim-map.yaml and the scan allow-lists;
    print each problem and exit 1 if there is any."""
    from curator.core.policy import checklists_dir

    folder = directory or checklists_dir()
    found = problems_in(folder)
    if as_json:
        emit_json({"directory": str(folder), "ok": not found, "problems": found})
    else:
        for line in found:
            say(f"[red]✗[/red] {markup(line)}")
        if not found:
            say(f"[green]✓[/green] {markup(str(folder))}: the policy is sound")
    raise typer.Exit(1 if found else 0)


def problems_in(folder: Path) -> list[str]:
    """One line per problem; default.yaml first, then each file a review reads."""
    from curator.core.errors import CuratorError
    from curator.core.policy import Policy, load_yaml
    from curator.core.policy_schema import problems

    if not folder.is_dir():
        return [f"{folder} is not a folder"]
    found: list[str] = []
    try:
        data = load_yaml("default.yaml", folder)
        found += problems(data, "default.yaml")
    except CuratorError as exc:
        found.append(exc.message)
    # the section readers' own cross-checks need a sound default.yaml; the side files do not
    policy = Policy({} if found else data, folder)
    for check in _checks():
        try:
            check(policy)
        except CuratorError as exc:
            found.append(exc.message)
    return found


def _checks() -> list[Callable[[Any], object]]:
    """The section readers and side files, each read the way a review reads it."""
    from curator.attest.trust import load_trusted
    from curator.decision.rules import DecisionRules
    from curator.quarterly.settings import QuarterlySettings
    from curator.stages.card.grade import CardSettings
    from curator.stages.card.license import LicenseTable
    from curator.stages.card.rules import ProvenanceRules
    from curator.stages.eval.claims import ClaimMap
    from curator.stages.eval.settings import EvalSettings
    from curator.stages.scan.config import ScanConfig
    from curator.stages.signature.trust import load_publishers

    return [
        lambda p: ScanConfig.from_section(p.section("scan"), p.directory),
        lambda p: CardSettings.from_section(p.section("card")),
        lambda p: EvalSettings.from_policy(p.section("eval")),
        DecisionRules.from_policy,
        QuarterlySettings.from_policy,
        lambda p: load_publishers(p.directory),
        lambda p: load_trusted(p.directory),
        lambda p: LicenseTable.load(p.directory),
        lambda p: ProvenanceRules.load(p.directory),
        lambda p: ClaimMap.load(p.directory),
    ]
