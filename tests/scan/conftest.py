"""The corpus is written once per session and scanned once through the real CLI; tests read verdicts."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.scan import corpus


@pytest.fixture(scope="session")
def corpus_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("scan-corpus")


@pytest.fixture(scope="session")
def samples(corpus_root: Path) -> dict[str, corpus.Sample]:
    return {s.name: s for s in corpus.build(corpus_root)}


@pytest.fixture(scope="session")
def scanned(corpus_root: Path, samples: dict[str, corpus.Sample]) -> dict[str, Any]:
    """``curator scan CORPUS --json``, run for real (all three scanners), once."""
    done = subprocess.run([sys.executable, "-m", "curator", "scan", str(corpus_root), "--json"],
                          capture_output=True, text=True, timeout=900, check=False)
    assert done.returncode == 1, done.stderr  # the corpus holds malicious files: exit 1
    document: dict[str, Any] = json.loads(done.stdout)
    document["by_path"] = {f["path"]: f for f in document["files"]}
    return document


def verdict_of(scanned: dict[str, Any], samples: dict[str, corpus.Sample], name: str) -> dict[str, Any]:
    """The CLI's report on the sample ``name``."""
    report: dict[str, Any] = scanned["by_path"][samples[name].path]
    return report
