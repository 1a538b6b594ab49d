"""A workspace holding one real review of the hostile candidate: fetch, scan and card ran for real."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from curator.core.models import Review
from curator.review.session import Session
from tests.decision.helpers import isolated_checklists, open_session, reviewed
from tests.hostile.corpus import hostile_model


@dataclass
class Hostile:
    session: Session
    review: Review
    folder: Path
    checklists: Path


@pytest.fixture
def hostile(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Hostile]:
    checklists = isolated_checklists(tmp_path / "checklists", ["fetch", "scan", "card"])
    monkeypatch.setenv("CURATOR_CHECKLISTS", str(checklists))
    session = open_session(checklists)
    folder = hostile_model(tmp_path / "hostile")
    review = reviewed(session, folder)
    yield Hostile(session, review, folder, checklists)
    session.close()
