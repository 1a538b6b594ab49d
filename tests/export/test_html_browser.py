"""The HTML approval report rendered by a real browser (Debian's headless Chromium): printed to
PDF, read back with pdftotext, and screenshotted, offline and with network fetches disabled."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from curator.decision.verify import trusted_curators
from curator.export.approval import build_report
from curator.export.formats import render
from tests.export.conftest import WAIVER_REASON, Adoptions
from tests.needs import need_binary


def chromium(tmp_path: Path, page: Path, *flags: str) -> None:
    browser = need_binary("chromium", "run 'make sysdeps' (apt-get install chromium)", "chromium-browser")
    done = subprocess.run([browser, "--headless", "--no-sandbox", "--disable-gpu",
                           "--disable-background-networking", "--disable-component-update", "--no-first-run",
                           "--disable-sync",
                           f"--user-data-dir={tmp_path / 'chromium-profile'}", *flags, page.as_uri()],
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr[-2000:]


@pytest.fixture
def page(adopted: Adoptions, tmp_path: Path) -> Path:
    s = adopted.session
    report = build_report(s, adopted.second.review_id, trusted_curators(s.policy))
    path = tmp_path / "report.html"
    path.write_text(render(report, "html"), encoding="utf-8")
    return path


def test_printed_pdf_shows_decision_evidence_and_chart(page: Path, tmp_path: Path,
                                                       adopted: Adoptions) -> None:
    pdf = tmp_path / "report.pdf"
    chromium(tmp_path, page, f"--print-to-pdf={pdf}", "--no-pdf-header-footer")
    pdftotext = need_binary("pdftotext", "run 'make sysdeps' (apt-get install poppler-utils)")
    text = subprocess.run([pdftotext, "-layout", str(pdf), "-"], capture_output=True, text=True,
                          check=True).stdout
    # reading order (no -layout) for phrases: a wrapped table cell's words stay together
    flowing = subprocess.run([pdftotext, str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    squashed = " ".join(flowing.split())
    first_page = " ".join(text.split("\f")[0].split())
    assert "APPROVED local/tiny-two@" in first_page and "verified" in first_page
    assert "Ada Lovelace" in first_page and adopted.second.digest[7:30] in squashed.replace(" ", "")
    for expected in ("Manifest", "model.safetensors", "tokenizer/tokenizer.json", "Signature and trust",
                     "Publisher identity", "Measured vs claimed", "curator_basics · acc", "claims 0.270",
                     WAIVER_REASON, "Ledger", "Chain ok"):
        assert expected in squashed, f"{expected!r} is not visible in the printed report"


def test_screenshot_renders_the_page(page: Path, tmp_path: Path) -> None:
    png = tmp_path / "report.png"
    chromium(tmp_path, page, f"--screenshot={png}", "--window-size=1200,2400", "--hide-scrollbars")
    data = png.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    # a blank white page compresses to a few KiB; tables, badges and the chart do not
    assert len(data) > 60_000
