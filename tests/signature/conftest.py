"""Fixtures: the real signed models (copied before tampering) and an isolated workspace."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from curator.ledger import Ledger
from tests.signature.helpers import SIGNED


@pytest.fixture(scope="session")
def signed() -> Path:
    """The read-only fixtures folder; a checkout without it is a broken setup, not a skip."""
    if not (SIGNED / "README.md").is_file():
        pytest.fail(f"signed-model fixtures not found at {SIGNED}: clone shared/ beside the repo")
    return SIGNED


@pytest.fixture
def copy_fixture(signed: Path, tmp_path: Path) -> Any:
    """Copy one fixture folder to tmp (writable) before tampering with it."""

    def copy(name: str) -> Path:
        target = tmp_path / name
        shutil.copytree(signed / name, target)
        for path in [target, *target.rglob("*")]:
            path.chmod(0o755 if path.is_dir() else 0o644)
        return target

    return copy


@pytest.fixture
def ledger(tmp_path: Path) -> Iterator[Ledger]:
    """A fresh SQLite ledger: where first-use records and earlier reviews live."""
    led = Ledger(tmp_path / "ledger.db")
    yield led
    led.close()
