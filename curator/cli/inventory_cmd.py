"""`curator inventory`: every model in the private registry, its decision, age and status."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from curator.cli.app import app, emit_json, say, workspace
from curator.core.text import markup

if TYPE_CHECKING:
    from curator.inventory.build import Inventory
    from curator.review.session import Session

SHOWN = ("ref", "status", "curator", "approved", "age", "last_check", "license", "waivers", "production",
         "replaced_by", "conditions", "signature")

RegistriesOpt = Annotated[list[str] | None, typer.Option(
    "--registry", help="Registry URL (repeatable: one inventory over several registries; default: "
                       "'registries:' in policy, $CURATOR_REGISTRY, registry.url, or the workspace layout).")]


def load_inventory(session: Session, registry_urls: list[str] | str | None) -> Inventory:
    """The inventory of the configured (or given) registries, as of today."""
    import gc

    from curator.inventory.build import build_inventory, merge_inventories
    from curator.registry import open_registries

    # a short-lived command that builds hundreds of thousands of small objects and frees them
    # at exit: the cyclic collector's passes over them cost more than the work (measured 2x)
    gc.disable()

    urls = [registry_urls] if isinstance(registry_urls, str) else registry_urls
    registries = open_registries(session.workspace.registry_dir, session.policy, urls)
    return merge_inventories([build_inventory(session, r) for r in registries])


@app.command()
def inventory(
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON document on stdout.")] = False,
    sort: Annotated[str, typer.Option("--sort", help="Column to sort by (ref, status, age, license, ...).")]
    = "ref",
    reverse: Annotated[bool, typer.Option("--reverse", help="Sort descending.")] = False,
    filters: Annotated[list[str] | None, typer.Option(
        "--filter", help="COLUMN=TEXT (or TEXT in any column); repeatable, all must match.")] = None,
    tui: Annotated[bool, typer.Option("--tui", help="Browse it in the terminal UI.")] = False,
    registry: RegistriesOpt = None,
) -> None:
    """List every adopted model: decision (who, when, waivers), pinned revision, age, last check,
    scanner versions, license, lineage, production, replaced-by, conditions, signature and status
    (approved / retired / needs-re-review); with several registries, each row names its own."""
    from curator.inventory.build import filter_entries, sort_entries
    from curator.review.session import Session

    ws = workspace()
    if tui:
        from curator.tui.app import make_app

        make_app(ws, start="inventory", registry=registry).run()
        return
    session = Session.open(ws)
    try:
        found = load_inventory(session, registry)
    finally:
        session.close()
    entries = list(found.entries)
    for spec in filters or []:
        entries = filter_entries(entries, spec)
    entries = sort_entries(entries, sort, reverse)
    if as_json:
        emit_json(found.to_dict(entries))
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(*SHOWN, show_lines=False, header_style="bold")
    style = {"approved": "green", "retired": "dim", "needs-re-review": "yellow"}
    for e in entries:
        table.add_row(*[e.cell(c) for c in SHOWN], style=style.get(e.status, ""))
    console = Console(soft_wrap=False)
    if not console.is_terminal:
        console = Console(soft_wrap=False, width=240)  # a pipe or file: no 80-column squeeze
    console.print(table)
    counts = found.counts()
    say(f"{len(entries)} of {len(found.entries)} model(s) shown; " + ", ".join(f"{v} {k}" for k, v in
                                                                          counts.items()))
    if not found.registry_listed:
        say(f"  {markup(found.registry)} cannot list tags: presence in the registry was not checked "
            "(run 'curator quarterly')")
