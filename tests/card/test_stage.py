"""The card stage inside a review: registered, pinned to the manifest, persisted, fail-closed."""

from __future__ import annotations

import hashlib
import json
import os
import threading
from pathlib import Path

import pytest

from curator.core.models import Candidate, FileEntry, Manifest, StageResult, Status
from curator.core.pipeline import Pipeline
from curator.core.policy import Policy
from curator.core.progress import Cancelled, Progress
from curator.core.stage import ReviewContext
from curator.ledger import Ledger
from curator.ledger.standings import standings
from curator.stages import STAGES, build_stages
from curator.stages.card import CardStage
from tests.card.conftest import SHIPPED, Grader
from tests.card.helpers import card_text, codes


def test_registered_after_signature_in_the_shipped_policy() -> None:
    assert STAGES["card"] == "curator.stages.card:CardStage"
    (stage,) = build_stages(["card"])
    assert isinstance(stage, CardStage) and stage.requires == ("fetch",)
    order = Policy.load(SHIPPED).stages
    assert order.index("card") > order.index("fetch")
    if "signature" in order:
        assert order.index("card") > order.index("signature")


def test_evidence_is_json_and_carries_every_panel_part(grade: Grader) -> None:
    result = grade(card_text("vendor_full.md"), pin=True)
    evidence = json.loads(json.dumps(result.evidence))
    assert set(evidence) >= {"status", "summary", "fields", "claims", "license", "lineage",
                             "lookalike", "findings", "card"}
    assert list(evidence["fields"]) == ["publisher_identity", "training_data",
                                        "training_pipeline", "eval_summary", "lineage"]
    card = evidence["card"]
    assert card["path"] == "README.md" and card["front_matter"] is True
    assert card["sha256"] == hashlib.sha256(card_text("vendor_full.md").encode()).hexdigest()
    assert {"location": "Acme-7B > Training Details > Training Data", "level": 3,
            "line": 73} in card["outline"]
    assert result.tool_versions["huggingface_hub"] and result.tool_versions["pyyaml"]


def test_no_card_at_all(grade: Grader) -> None:
    result = grade(None, files={"model.safetensors": b"\0" * 16})
    assert result.status == Status.FAILED
    assert codes(result) == ["card-missing"]
    assert result.evidence["card"]["present"] is False
    assert all(f["status"] == "missing" for f in result.evidence["fields"].values())


def test_lowercase_readme_is_a_fallback(grade: Grader) -> None:
    result = grade(None, files={"readme.md": card_text("vendor_full.md").encode()})
    assert result.evidence["card"]["path"] == "readme.md"
    assert result.status == Status.PASSED


def test_card_changed_after_pinning(tmp_path: Path, checklists: Path) -> None:
    folder = tmp_path / "m"
    folder.mkdir()
    (folder / "README.md").write_text(card_text("vendor_full.md"))
    pinned = Manifest((FileEntry("README.md", 10, "0" * 64),))
    fetch = StageResult("fetch", Status.PASSED, evidence={"files": pinned.to_list()})
    ctx = ReviewContext("r", Candidate("acme-labs/acme-7b", "main", "hub"), folder, tmp_path,
                        Policy.load(checklists), results={"fetch": fetch})
    result = CardStage().run(ctx, Progress("card", [], threading.Event()))
    assert "card-changed" in codes(result) and result.status == Status.FAILED


def test_a_card_not_in_the_pinned_manifest_is_not_read(tmp_path: Path, checklists: Path) -> None:
    folder = tmp_path / "m"
    folder.mkdir()
    (folder / "README.md").write_text(card_text("vendor_full.md"))
    fetch = StageResult("fetch", Status.PASSED, evidence={"files": []})
    ctx = ReviewContext("r", Candidate("x/y", "main", "hub"), folder, tmp_path,
                        Policy.load(checklists), results={"fetch": fetch})
    result = CardStage().run(ctx, Progress("card", [], threading.Event()))
    assert codes(result) == ["card-missing"]


def test_symlink_out_of_the_candidate_is_not_followed(tmp_path: Path, checklists: Path) -> None:
    secret = tmp_path / "secret.md"
    secret.write_text("---\nlicense: mit\n---\n")
    folder = tmp_path / "linked"
    folder.mkdir()
    os.symlink(secret, folder / "README.md")
    ctx = ReviewContext("r", Candidate("x/y", "main", "hub"), folder, tmp_path,
                        Policy.load(checklists))
    result = CardStage().run(ctx, Progress("card", [], threading.Event()))
    assert "card-outside-candidate" in codes(result)
    assert result.evidence["license"]["verdict"] == "missing"


def test_unreadable_card_errors_the_stage_in_the_pipeline(tmp_path: Path, checklists: Path) -> None:
    folder = tmp_path / "m"
    (folder / "README.md").mkdir(parents=True)  # a folder where the card should be
    (folder / "x").write_text("x")
    ctx = ReviewContext("r", Candidate("x/y", "main", "hub"), folder, tmp_path,
                        Policy.load(checklists),
                        results={"fetch": StageResult("fetch", Status.PASSED, evidence={
                            "files": [{"path": "README.md", "size": 1, "sha256": "0" * 64}]})})
    results = Pipeline([CardStage()]).run(ctx)
    assert results["card"].status == Status.ERRORED
    assert "cannot read the model card" in results["card"].findings[0].message


def test_pipeline_persists_the_card_result(tmp_path: Path, checklists: Path) -> None:
    folder = tmp_path / "m"
    folder.mkdir()
    (folder / "README.md").write_text(card_text("trainer_bare.md"))
    ledger = Ledger(tmp_path / "ledger.db")
    candidate = Candidate("someone/my-awesome-model", "main", "hub", commit="c" * 40)
    review = ledger.create_review(candidate)
    data = (folder / "README.md").read_bytes()
    ledger.save_result(review.id, StageResult("fetch", Status.PASSED, evidence={"files": [
        {"path": "README.md", "size": len(data), "sha256": hashlib.sha256(data).hexdigest()}]}))
    ctx = ReviewContext(review.id, candidate, folder, tmp_path, Policy.load(checklists),
                        ledger=ledger, standings=standings(ledger))
    Pipeline([CardStage()]).run(ctx)
    stored = ledger.results(review.id)["card"]
    assert stored.status == Status.WARNED
    assert stored.evidence["fields"]["lineage"]["status"] == "declared"
    assert ledger.verify().ok
    ledger.close()


def test_cancel_is_honoured(tmp_path: Path, checklists: Path) -> None:
    folder = tmp_path / "m"
    folder.mkdir()
    (folder / "README.md").write_text("# m\n")
    cancel = threading.Event()
    cancel.set()
    ctx = ReviewContext("r", Candidate("x/y", "main", "hub"), folder, tmp_path,
                        Policy.load(checklists))
    with pytest.raises(Cancelled):
        CardStage().run(ctx, Progress("card", [], cancel))


def test_bad_card_policy_is_a_usage_error(tmp_path: Path, checklists: Path) -> None:
    import yaml

    from curator.core.errors import UsageError

    path = checklists / "default.yaml"
    data = yaml.safe_load(path.read_text())
    data["card"]["pased"] = {"present": 3}
    path.write_text(yaml.safe_dump(data))
    # refused when the policy loads, before any stage runs
    with pytest.raises(UsageError, match=r"card\.pased is not a known key; did you mean 'passed'"):
        Policy.load(checklists)
