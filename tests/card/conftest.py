"""Card-stage fixtures: an isolated checklists folder and a way to grade a card for real."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from curator.core.models import Candidate, FileEntry, Manifest, StageResult, Status
from curator.core.policy import Policy
from curator.core.progress import Progress
from curator.core.stage import ReviewContext
from curator.ledger.standings import standings
from curator.stages.card import CardStage

SHIPPED = Path(__file__).resolve().parents[2] / "checklists"

PUBLISHERS = """\
version: 1
publishers:
  - match: acme-labs
    required: true
    signers:
      - key: keys/acme.pem
  - match: meta-llama/*
  - match: mistralai/Mistral-7B-v0.1
  - match: "*-research/*"
"""


@pytest.fixture
def checklists(tmp_path: Path) -> Path:
    """The shipped card checklists (provenance, licenses, card section), nothing of other stages."""
    folder = tmp_path / "checklists"
    folder.mkdir()
    shipped = yaml.safe_load((SHIPPED / "default.yaml").read_text(encoding="utf-8"))
    policy = {"version": "test", "stages": ["card"], "card": shipped["card"]}
    (folder / "default.yaml").write_text(yaml.safe_dump(policy), encoding="utf-8")
    for name in ("provenance.yaml", "licenses.yaml"):
        (folder / name).write_bytes((SHIPPED / name).read_bytes())
    (folder / "publishers.yaml").write_text(PUBLISHERS, encoding="utf-8")
    return folder


Grader = Callable[..., StageResult]


@pytest.fixture
def grade(tmp_path: Path, checklists: Path) -> Grader:
    """Run the real card stage on a card; returns its StageResult.

    ``card`` is text or bytes written as README.md (None: no card); ``files`` adds more
    files; ``pin`` puts a fetch result with the manifest of the folder in the context.
    """
    counter = [0]

    def run(card: str | bytes | None, *, repo_id: str = "someone/model", source: str = "hub",
            files: dict[str, bytes] | None = None, results: dict[str, StageResult] | None = None,
            ledger: Any = None, pin: bool = False, policy: Policy | None = None) -> StageResult:
        counter[0] += 1
        folder = tmp_path / f"candidate{counter[0]}"
        folder.mkdir()
        if card is not None:
            data = card.encode() if isinstance(card, str) else card
            (folder / "README.md").write_bytes(data)
        for name, data in (files or {}).items():
            (folder / name).write_bytes(data)
        context_results = dict(results or {})
        if pin:
            context_results["fetch"] = StageResult("fetch", Status.PASSED, evidence={
                "files": Manifest(tuple(_entry(p, folder) for p in sorted(folder.iterdir()))).to_list()})
        ctx = ReviewContext(
            review_id="r1", candidate=Candidate(repo_id=repo_id, revision="main", source=source),
            files_dir=folder, work_dir=tmp_path, policy=policy or Policy.load(checklists),
            results=context_results, standings=standings(ledger))
        return CardStage().run(ctx, Progress("card", [], threading.Event()))

    return run


def _entry(path: Path, root: Path) -> FileEntry:
    import hashlib

    data = path.read_bytes()
    return FileEntry(path.relative_to(root).as_posix(), len(data), hashlib.sha256(data).hexdigest())
