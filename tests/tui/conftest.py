"""Fixtures of the TUI tests: the demo samples in the test hub, and a queue of them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from curator.core.models import Candidate
from curator.core.workspace import Workspace
from curator.tui.items import QueueItem


@pytest.fixture
def samples(hub_store: Any) -> list[Any]:
    """The demo's sample candidates, built into the test hub's store."""
    from curator.demo.samples import build_samples

    return build_samples(hub_store.root)


@pytest.fixture
def queue(hub: Any, samples: list[Any]) -> list[QueueItem]:
    """One queue item per sample, at the running test hub."""
    return [QueueItem(Candidate(s.repo_id, "main", "hub", endpoint=hub.url), s.description)
            for s in samples]


@pytest.fixture
def workspace(tmp_path: Path) -> Workspace:
    return Workspace.open(tmp_path / "curator-home")
