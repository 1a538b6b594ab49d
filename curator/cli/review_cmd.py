"""`curator review`: open a candidate in the TUI, or run its stages headless."""

from __future__ import annotations

from typing import Annotated

import typer

from curator.cli.app import app, emit_json, say, workspace


@app.command()
def review(
    target: Annotated[str, typer.Argument(help="Hub repo id ORG/NAME, or a local model folder.")],
    revision: Annotated[str | None, typer.Option(help="Branch, tag or commit (default: main).")] = None,
    endpoint: Annotated[str | None, typer.Option(
        help="HF-compatible hub URL (default: $HF_ENDPOINT or huggingface.co).")] = None,
    headless: Annotated[bool, typer.Option("--headless", help="Run the stages without the TUI.")] = False,
    only: Annotated[str | None, typer.Option(help="Comma-separated stages to run, e.g. fetch,scan.")] = None,
    fresh: Annotated[bool, typer.Option("--fresh", help="Start a new review instead of resuming.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON document on stdout.")] = False,
) -> None:
    """Review a candidate: pin it, then fetch, scan, check signature and card, evaluate."""
    from curator.reviews import Session, parse_target

    candidate = parse_target(target, revision, endpoint)
    stages = [s.strip() for s in only.split(",") if s.strip()] if only else None
    if not headless:
        from curator.tui.app import make_app

        make_app(workspace(), candidate=candidate, fresh=fresh, only=stages).run()
        return
    from curator.cli.progress import TerminalObserver
    from curator.reviews import exit_code, review_document

    session = Session.open(workspace())
    try:
        lookalikes = session.name_check(candidate)
        for finding in lookalikes:  # before any byte is downloaded
            say(f"[red]{finding.severity.value}[/] {finding.message}")
        opened = session.open_review(candidate, fresh=fresh)
        if not as_json:
            say(f"review [bold]{opened.id}[/] of {opened.candidate.label}")
        results = session.run(opened, stages, observers=[TerminalObserver(quiet=as_json)])
        document = review_document(opened, results, session.policy)
    finally:
        session.close()
    if as_json:
        emit_json(document)
    else:
        say(f"recommendation: [bold]{document['recommendation']}[/]")
    raise typer.Exit(exit_code(results))
