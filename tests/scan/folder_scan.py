"""One real ``curator scan --json`` over a folder of samples, and the check that curator's own
checks (not only a scanner) blocked a sample."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any


def scan_folder(root: Path, paths: dict[str, str]) -> dict[str, dict[str, Any]]:
    """Each file's report, keyed by the sample name ``paths`` gives its path; the scan must block."""
    done = subprocess.run([sys.executable, "-m", "curator", "scan", str(root), "--json"],
                          capture_output=True, text=True, timeout=900, check=False)
    assert done.returncode == 1, done.stderr
    document = json.loads(done.stdout)
    return {paths[f["path"]]: f for f in document["files"]}


def blocked_by_curator(scanned: dict[str, dict[str, Any]], name: str, code: str) -> None:
    report = scanned[name]
    assert report["verdict"] == "blocked", report
    own = {f["code"] for f in report["findings"]
           if f["tool"] == "curator" and f["severity"] in ("high", "critical")}
    assert code in own, f"{name}: expected curator's own {code} finding, got {sorted(own)}"
