"""`curator review`: open a candidate in the TUI, or run its stages headless."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from curator.cli.app import app, emit_json, say, workspace

if TYPE_CHECKING:
    from curator.core.models import Candidate
    from curator.core.workspace import Workspace


@app.command()
def review(
    target: Annotated[str, typer.Argument(help="Hub repo id ORG/NAME, or a local model folder.")],
    revision: Annotated[str | None, typer.Option(help="Branch, tag or commit (default: main).")] = None,
    endpoint: Annotated[str | None, typer.Option(
        help="HF-compatible hub URL (default: $HF_ENDPOINT or huggingface.co).")] = None,
    headless: Annotated[bool, typer.Option("--headless", help="Run the stages without the TUI.")] = False,
    only: Annotated[str | None, typer.Option(help="Comma-separated stages to run, e.g. fetch,scan.")] = None,
    fresh: Annotated[bool, typer.Option("--fresh", help="Start a new review instead of resuming.")] = False,
    name: Annotated[str | None, typer.Option(
        help="A local folder's repo id ORG/NAME (default: local/FOLDER); its publisher's rules apply.")
    ] = None,
    publisher: Annotated[str | None, typer.Option(
        help="A local folder's publisher ORG (default: local), held to publishers.yaml.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON document on stdout.")] = False,
    unsandboxed: Annotated[bool, typer.Option(
        "--unsandboxed", help="With --headless: let eval load the weights without the bubblewrap sandbox "
                              "(when eval.sandbox is none or bwrap is missing); recorded as a finding.",
    )] = False,
) -> None:
    """Review a candidate: pin it, then fetch, scan, check signature and card, evaluate."""
    from curator.review.session import parse_only, parse_target

    stages = parse_only(only)  # before any review is recorded
    candidate = parse_target(target, revision, endpoint, name, publisher)
    if not headless:
        if unsandboxed:
            from curator.core.errors import UsageError

            raise UsageError("--unsandboxed works only with --headless",
                             "run `curator review TARGET --headless --unsandboxed`")
        from curator.tui.app import make_app

        make_app(workspace(), candidate=candidate, fresh=fresh, only=stages).run()
        return
    raise typer.Exit(run_headless(workspace(), candidate, fresh=fresh, only=stages, as_json=as_json,
                                  unsandboxed=unsandboxed))


def run_headless(ws: Workspace, candidate: Candidate, fresh: bool = False, only: list[str] | None = None,
                 as_json: bool = False, unsandboxed: bool = False) -> int:
    """Run a review's stages without the TUI: progress on stderr, verdict or JSON on stdout."""
    from curator.cli.progress import TerminalObserver
    from curator.core.text import markup
    from curator.decision.decide import trusted_curator_keys
    from curator.review.session import Session, exit_code, review_document

    session = Session.open(ws)
    try:
        session.curators = trusted_curator_keys(session)  # the team's root, else its curators.yaml
        for finding in session.name_check(candidate):  # before any byte is downloaded
            say(f"[red]{finding.severity.value}[/] {markup(finding.message)}")
        opened = session.open_review(candidate, fresh=fresh)
        if not as_json:
            where = f" from {candidate.endpoint}" if candidate.endpoint else ""
            say(f"review [bold]{opened.id}[/] of {markup(opened.candidate.label)}{markup(where)}")
        results = session.run(opened, only, observers=[TerminalObserver()],
                              unsandboxed=unsandboxed)
        document = review_document(opened, results, session.policy)
    finally:
        session.close()
    if as_json:
        emit_json(document)
    else:
        say(f"recommendation: [bold]{document['recommendation']}[/]")
    return exit_code(results)
