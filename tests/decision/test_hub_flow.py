"""A hub candidate (the local HF-compatible hub) reviewed, approved, pushed and verified
through the CLI; its tag is the pinned commit's first 12 hex."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.decision.helpers import cli, cli_curator, isolated_checklists, make_model


def test_hub_review_approve_verify(hub: Any, hub_store: Any, tmp_path: Path,
                                   monkeypatch: pytest.MonkeyPatch) -> None:
    model = make_model(tmp_path / "files")
    files = {p.relative_to(model).as_posix(): p.read_bytes() for p in model.rglob("*") if p.is_file()}
    commit = hub_store.publish("Acme-Labs/Tiny.Model", files)
    monkeypatch.setenv("CURATOR_CHECKLISTS", str(isolated_checklists(tmp_path / "checklists", ["fetch"])))
    assert cli_curator("Ada", "ada@example.org").returncode == 0
    done = cli("review", "Acme-Labs/Tiny.Model", "--endpoint", hub.url, "--headless", "--json")
    assert done.returncode == 0, done.stderr
    rid = json.loads(done.stdout)["review_id"]
    decided = cli("decide", rid, "--approve", "--rationale", "hub sample", "--json")
    assert decided.returncode == 0, decided.stderr
    ref = json.loads(decided.stdout)["ref"]
    assert ref == f"acme-labs/tiny.model:{commit[:12]}"  # lowercased repository, pinned-commit tag
    checked = cli("verify", ref, "--json")
    assert checked.returncode == 0, checked.stderr
    assert json.loads(checked.stdout)["files"] == len(files)
