"""The issue's "done when", on the demo's own samples served by the local hub: approve two,
file their reports, validate the AI-BOM, pass the quarterly review (upstream checks on), then
tamper with one registry blob and see exactly that model fail."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from curator.core.workspace import Workspace
from curator.demo.samples import build_samples
from curator.export.bom import validate
from curator.review.session import Session
from tests.decision.helpers import cli, cli_curator
from tests.export.helpers import checklists, eval_result, tamper
from tests.export.test_sarif import sarif_schema

SAMPLES = ("acme-labs/tinyllama-clean", "hobbyist99/tinyllama-finetune")


def _approve(repo: str, hub: Any) -> tuple[str, str, dict[str, Any]]:
    done = cli("review", repo, "--endpoint", hub.url, "--headless", "--only", "fetch,scan,card", "--json")
    assert done.returncode in (0, 1), done.stderr
    review = json.loads(done.stdout)
    session = Session.open(Workspace.open())  # the eval stage is not what this test is about
    try:
        session.ledger.save_result(review["review_id"], eval_result())
    finally:
        session.close()
    waive = ["--waive", "card=placeholders accepted for internal experiments"] \
        if review["stages"]["card"]["status"] == "failed" else []
    decided = cli("decide", review["review_id"], "--approve", "--rationale", "demo sample", *waive, "--json")
    assert decided.returncode == 0, decided.stderr
    return review["review_id"], json.loads(decided.stdout)["ref"], review


def test_two_demo_samples_end_to_end(hub: Any, hub_store: Any, tmp_path: Path,
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    build_samples(hub_store.root)
    monkeypatch.setenv("CURATOR_CHECKLISTS", str(checklists(tmp_path / "checklists", check_upstream=True)))
    assert cli_curator("Ada", "ada@example.org").returncode == 0
    adopted = {repo: _approve(repo, hub) for repo in SAMPLES}
    for review_id, _, _ in adopted.values():
        for fmt in ("html", "md", "json", "sarif"):
            done = cli("report", review_id, "--format", fmt, "-o", str(tmp_path / f"{review_id}.{fmt}"))
            assert done.returncode == 0, done.stderr
        jsonschema.Draft4Validator(sarif_schema()).validate(json.loads((tmp_path / f"{review_id}.sarif")
                                                                       .read_text()))
    assert cli("bom", "-o", str(tmp_path / "bom.json")).returncode == 0
    assert validate((tmp_path / "bom.json").read_text()) == []
    done = cli("quarterly", "--json")
    assert done.returncode == 0, done.stderr
    models = json.loads(done.stdout)["models"]
    # the finetune's card failed with high findings and was waived: flagged, never failed
    warned = [(c["name"], c["message"]) for m in models for c in m["checks"] if c["outcome"] == "warn"]
    assert all(name == "findings" and "approved over" in text for name, text in warned), warned
    assert {m["outcome"] for m in models} <= {"ok", "warn"} and len(models) == 2
    assert {c["message"] for m in models for c in m["checks"] if c["name"] == "upstream"} == {
        "still the newest on 'main'"}
    _, ref, review = adopted["hobbyist99/tinyllama-finetune"]
    weights = next(f["sha256"] for f in review["files"] if f["path"] == "model.safetensors")
    tamper(Workspace.open().registry_dir / "blobs" / "sha256" / weights)
    done = cli("quarterly", "--headless", "--json")
    assert done.returncode == 1
    failed = [m["ref"] for m in json.loads(done.stdout)["models"] if m["outcome"] == "fail"]
    assert failed == [ref]
