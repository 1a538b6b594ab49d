"""`curator report REVIEW_ID --format html|md|json|sarif [-o F]`: the approval report of a review."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from curator.cli.app import app, say, workspace
from curator.core.errors import UsageError
from curator.core.text import markup

FORMATS = ("html", "md", "json", "sarif", "pdf")


def write_output(text: str | bytes, output: Path | None, what: str) -> None:
    """``-o F``: write the file (atomically); without it, the document goes to stdout."""
    data = text.encode("utf-8") if isinstance(text, str) else text
    if output is None:
        if isinstance(text, str):
            sys.stdout.write(text)
        else:
            sys.stdout.flush()
            sys.stdout.buffer.write(data)
        sys.stdout.flush()
        return
    try:
        output.parent.mkdir(parents=True, exist_ok=True)
        tmp = output.with_name(f".{output.name}.partial")
        tmp.write_bytes(data)
        tmp.replace(output)
    except OSError as exc:
        raise UsageError(f"cannot write {what} to {output} ({exc.strerror})",
                         "pass -o with a writable path") from exc
    say(f"wrote {what} to {markup(output)}")


@app.command()
def report(
    review_id: Annotated[str, typer.Argument(help="The review to report on (see 'curator inventory').")],
    fmt: Annotated[str, typer.Option(
        "--format", "-f", help="html (self-contained, printable), md (tickets), json, sarif (findings), "
                               "pdf (the HTML printed by headless Chromium).")]
    = "html",
    output: Annotated[Path | None, typer.Option("-o", "--output", help="Write to this file, not stdout.")]
    = None,
) -> None:
    """The approval report of a review: decision and signature status, each stage's evidence,
    waivers and the ledger position."""
    if fmt not in FORMATS:
        raise UsageError(f"--format {fmt} is not a report format", f"choose from {', '.join(FORMATS)}")
    from curator.decision.verify import trusted_curators
    from curator.export.approval import build_report
    from curator.export.formats import render
    from curator.review.session import Session

    ws = workspace()
    session = Session.open(ws)
    try:
        gathered = build_report(session, review_id, trusted_curators(session.policy))
    finally:
        session.close()
    if fmt == "pdf":
        from curator.export.pdf import render_pdf

        write_output(render_pdf(gathered), output, f"the pdf report of review {review_id}")
        return
    write_output(render(gathered, fmt), output, f"the {fmt} report of review {review_id}")
