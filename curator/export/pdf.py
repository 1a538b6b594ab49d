"""The approval report as PDF: the self-contained HTML report printed by headless Chromium.

The HTML has no script and fetches nothing; Chromium runs with a throw-away profile, no
network services, and a hard time limit. Its ``--print-to-pdf`` honours the report's
``@page`` and print CSS, so the PDF is what a reviewer gets from "Print to PDF".
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from curator.core.errors import UsageError
from curator.export.approval import ApprovalReport

CHROMIUM_ENV = "CURATOR_CHROMIUM"
NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
TIMEOUT_S = 120
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-extensions",
    "--no-pdf-header-footer",
)


def chromium() -> str:
    """The browser to print with: ``$CURATOR_CHROMIUM``, else the first on PATH."""
    chosen = os.environ.get(CHROMIUM_ENV)
    found = shutil.which(chosen) if chosen else next((p for p in map(shutil.which, NAMES) if p), None)
    if not found:
        raise UsageError(
            "no Chromium to print the PDF with" + (f" ({CHROMIUM_ENV}={chosen})" if chosen else ""),
            "install it (apt-get install chromium) or set CURATOR_CHROMIUM, "
            "or use --format html and print that",
        )
    return found


def print_pdf(html: str) -> bytes:
    """``html`` printed to PDF by headless Chromium."""
    browser = chromium()
    with tempfile.TemporaryDirectory(prefix="curator-pdf-") as tmp:
        page, pdf = Path(tmp) / "report.html", Path(tmp) / "report.pdf"
        page.write_text(html, encoding="utf-8")
        try:
            done = subprocess.run(
                [
                    browser,
                    *FLAGS,
                    f"--user-data-dir={Path(tmp) / 'profile'}",
                    f"--print-to-pdf={pdf}",
                    page.as_uri(),
                ],
                capture_output=True,
                text=True,
                timeout=TIMEOUT_S,
                check=False,
            )
        except subprocess.TimeoutExpired as exc:
            raise UsageError(
                f"{browser} did not print the report within {TIMEOUT_S} s", "use --format html and print that"
            ) from exc
        if done.returncode != 0 or not pdf.is_file() or pdf.read_bytes()[:5] != b"%PDF-":
            tail = (done.stderr.strip().splitlines() or ["no output"])[-1][:300]
            raise UsageError(
                f"{browser} could not print the report (exit {done.returncode}: {tail})",
                "use --format html and print that",
            )
        return pdf.read_bytes()


def render_pdf(report: ApprovalReport) -> bytes:
    """The approval report as PDF bytes."""
    from curator.export.report_html import render

    return print_pdf(render(report))
