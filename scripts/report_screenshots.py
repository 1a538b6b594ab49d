"""Regenerate the report pictures the README shows: ``python scripts/report_screenshots.py``.

Builds the export tests' three-model workspace in a throw-away temp dir (a model approved
over waived critical scan findings, one swapped and rolled back, one retired: see
``tests/export/lifecycle.py``), then writes into ``screenshots/``:

- ``report-html.png``: headless Chromium's screenshot of the waived model's HTML report;
- ``report-pdf-page1.png``: the first page of the same report printed to PDF by
  ``curator report --format pdf`` (Chromium), rasterised with ``pdftoppm``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "screenshots"


def main() -> int:
    sys.path.insert(0, str(ROOT))
    from curator.decision.verify import trusted_curators
    from curator.export.approval import build_report
    from curator.export.pdf import chromium, print_pdf
    from curator.export.report_html import render

    with tempfile.TemporaryDirectory(prefix="curator-report-shots-") as tmp:
        root = Path(tmp)
        os.environ["CURATOR_HOME"] = str(root / "home")
        from tests.export.lifecycle import build_three

        three = build_three(root)
        s = three.session
        report = build_report(s, three.waived.review_id, trusted_curators(s.workspace.keys_dir, s.policy))
        html = render(report)
        page = root / "report.html"
        page.write_text(html, encoding="utf-8")
        OUT.mkdir(exist_ok=True)
        subprocess.run([chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                        "--disable-background-networking", "--no-first-run", f"--user-data-dir={root / 'p'}",
                        f"--screenshot={OUT / 'report-html.png'}", "--window-size=1100,1500", page.as_uri()],
                       check=True, capture_output=True, timeout=120)
        pdf = root / "report.pdf"
        pdf.write_bytes(print_pdf(html))
        pdftoppm = shutil.which("pdftoppm")
        if pdftoppm is None:
            print("pdftoppm is missing: apt-get install poppler-utils", file=sys.stderr)
            return 2
        subprocess.run([pdftoppm, "-png", "-r", "70", "-f", "1", "-l", "1", "-singlefile", str(pdf),
                        str(OUT / "report-pdf-page1")], check=True, timeout=60)
        s.close()
    print(f"wrote {OUT / 'report-html.png'} and {OUT / 'report-pdf-page1.png'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
