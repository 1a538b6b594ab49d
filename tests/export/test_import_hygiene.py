"""Exports, inventory and quarterly review never pull in the UI; `curator --help` loads none of them."""

from __future__ import annotations

import json
import subprocess
import sys


def _modules_after(code: str) -> set[str]:
    probe = code + "\nimport sys, json\nprint(json.dumps(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    return set(json.loads(out.splitlines()[-1]))


def test_export_inventory_and_quarterly_never_import_textual() -> None:
    loaded = _modules_after(
        "import curator.export.approval, curator.export.bom, curator.export.bom_card, curator.export.chart, "
        "curator.export.formats, curator.export.report_html, curator.export.report_md, "
        "curator.export.report_json, curator.export.sarif, curator.export.sections, "
        "curator.export.quarterly_report, curator.inventory.build, curator.quarterly.run, "
        "curator.quarterly.checks, "
        "curator.quarterly.actions, curator.quarterly.upstream")
    assert not {m for m in loaded if m.split(".")[0] == "textual"}


def test_cli_help_loads_no_export_library() -> None:
    loaded = _modules_after(
        "import sys\nsys.argv = ['curator', '--help']\nfrom curator.cli import main\n"
        "try:\n    main()\nexcept SystemExit:\n    pass")
    assert not {m for m in loaded if m.split(".")[0] in ("cyclonedx", "jsonschema", "packageurl")}
    assert "curator.export.bom" not in loaded and "curator.quarterly.run" not in loaded
