"""A workspace with two adopted models (the second one derived from the first, its errored eval
waived), shared by the export tests."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from curator.attest.keys import FileSigner
from curator.core.models import Status
from curator.review.session import Session
from tests.decision.helpers import curator, open_session
from tests.export.helpers import Adopted, adopt, checklists, eval_result, model_folder

WAIVER_REASON = "scores checked by hand on the GPU box"


@dataclass
class Adoptions:
    session: Session
    signer: FileSigner
    first: Adopted
    second: Adopted
    checklists: Path


@pytest.fixture
def adopted(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Adoptions]:
    folder = checklists(tmp_path / "checklists")
    monkeypatch.setenv("CURATOR_CHECKLISTS", str(folder))
    session = open_session(folder)
    signer = curator(session.workspace, session.workspace.keys_dir, "Ada Lovelace", "ada@example.org")
    first = adopt(session, model_folder(tmp_path / "tiny-one", "tiny-one"), signer)
    errored = dataclasses.replace(eval_result(measured=0.12, stderr=0.01, verdict="not-reproduced"),
                                  status=Status.ERRORED)
    second = adopt(session, model_folder(tmp_path / "tiny-two", "tiny-two", base="local/tiny-one", seed=3),
                   signer, waivers={"eval": WAIVER_REASON}, evaluated=errored)
    yield Adoptions(session, signer, first, second, folder)
    session.close()
