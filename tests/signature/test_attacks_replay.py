"""A valid signature for another revision: the publisher's own signature of a release this
organisation retired or rejected, replayed as a new commit (of the same repo or under another
name). The signature verifies and every digest matches; the stage must still say no."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from curator.core.models import Status
from curator.core.standing import APPROVED, REJECTED, RETIRED, Standing, Standings
from curator.ledger import Ledger
from tests.signature.helpers import checklists, make_key, make_model, review, sign_with_key

FILES = {"model.safetensors": b"\x08\x00\x00\x00\x00\x00\x00\x00{}      " + b"\x01" * 64,
         "config.json": b'{"model_type": "gpt2"}', "README.md": b"# tiny\n"}
REASON = "a backdoor in the weights"


@pytest.fixture
def policy(tmp_path: Path) -> Any:
    (tmp_path / "cl").mkdir()
    make_key(tmp_path / "cl" / "acme.pem")
    rule = {"match": "acme", "required": True, "signers": [{"key": "acme.pub"}]}
    return checklists(tmp_path / "cl", [rule])


def _release(tmp_path: Path, name: str, files: dict[str, bytes]) -> Path:
    model = make_model(tmp_path / name, files)
    sign_with_key(model, tmp_path / "cl" / "acme.pem")
    return model


def _first(tmp_path: Path, policy: Any, ledger: Ledger, status: str) -> tuple[Path, Standings]:
    """Review v1 (it passes), then withdraw it as the quarterly review or a curator would."""
    v1 = _release(tmp_path, "v1", FILES)
    assert review(v1, "acme/tiny", policy, ledger, tmp_path / "w1").status == Status.PASSED
    [opened] = ledger.reviews()
    withdrawn = Standing("acme/tiny", opened.id, status, "sha256:" + "a" * 64, 1.7e9, "Ann Curator", REASON)
    return v1, Standings([withdrawn])


@pytest.mark.parametrize("status", [RETIRED, REJECTED])
@pytest.mark.parametrize("repo_id", ["acme/tiny", "acme/tiny-v2"])
def test_the_signed_bytes_of_a_withdrawn_release_fail_again(tmp_path: Path, policy: Any, ledger: Ledger,
                                                            status: str, repo_id: str) -> None:
    v1, standings = _first(tmp_path, policy, ledger, status)
    replay = tmp_path / "replay"
    shutil.copytree(v1, replay)  # the same signed files, fetched again as another commit
    result = review(replay, repo_id, policy, ledger, tmp_path / "w2", standings=standings)
    assert result.status == Status.FAILED, result.findings
    [finding] = [f for f in result.findings if f.code == "signed-release-withdrawn"]
    assert status in finding.message and REASON in finding.message and "Ann Curator" in finding.message
    assert result.evidence["status"] == "failed" and result.evidence["error"] == finding.message


def test_a_new_release_that_changes_a_signed_file_is_not_the_withdrawn_one(tmp_path: Path, policy: Any,
                                                                          ledger: Ledger) -> None:
    _, standings = _first(tmp_path, policy, ledger, RETIRED)
    v2 = _release(tmp_path, "v2", {**FILES, "model.safetensors": FILES["model.safetensors"][:-1] + b"\x02"})
    result = review(v2, "acme/tiny", policy, ledger, tmp_path / "w2", standings=standings)
    assert result.status == Status.PASSED, result.findings


def test_an_approved_release_reviewed_again_is_not_withdrawn(tmp_path: Path, policy: Any,
                                                             ledger: Ledger) -> None:
    v1, standings = _first(tmp_path, policy, ledger, APPROVED)
    result = review(v1, "acme/tiny", policy, ledger, tmp_path / "w2", standings=standings)
    assert result.status == Status.PASSED, result.findings


def test_a_withdrawn_release_never_becomes_a_first_signer(tmp_path: Path, ledger: Ledger) -> None:
    """An unlisted publisher: the replayed release must not be recorded as who signs for it."""
    key = make_key(tmp_path / "k.pem")
    v1 = make_model(tmp_path / "v1", {**FILES, "signing-key.pub": key.with_suffix(".pub").read_bytes()})
    sign_with_key(v1, key)
    policy = checklists(tmp_path / "cl", [])
    review(v1, "tofu7/tiny", policy, ledger, tmp_path / "w1")
    [opened] = ledger.reviews()
    assert len(ledger.events(kind="signer_seen")) == 1  # v1 itself was recorded for tofu7
    standings = Standings([Standing("tofu7/tiny", opened.id, RETIRED, None, 1.7e9, "Ann", REASON)])
    replay = tmp_path / "replay"
    shutil.copytree(v1, replay)
    result = review(replay, "tofu8/tiny", policy, ledger, tmp_path / "w2", standings=standings)
    assert result.status == Status.FAILED, result.findings
    assert not result.evidence["first_use"]["recorded"]


def test_an_approved_but_superseded_release_replayed_is_a_downgrade(tmp_path: Path, policy: Any,
                                                                    ledger: Ledger) -> None:
    v1, old = _first(tmp_path, policy, ledger, APPROVED)
    v2 = _release(tmp_path, "v2", {**FILES, "config.json": b'{"model_type": "gpt2", "fixed": true}'})
    assert review(v2, "acme/tiny", policy, ledger, tmp_path / "w2").status == Status.PASSED
    newer = next(r.id for r in ledger.reviews() if r.id != next(iter(old)).review_id)
    standings = Standings([*old, Standing("acme/tiny", newer, APPROVED, "sha256:" + "b" * 64, 1.8e9, "Bo")])
    replay = tmp_path / "replay"
    shutil.copytree(v1, replay)
    result = review(replay, "acme/tiny", policy, ledger, tmp_path / "w3", standings=standings)
    assert result.status == Status.WARNED, result.findings
    [finding] = [f for f in result.findings if f.code == "signed-release-superseded"]
    assert newer in finding.message and "downgrade" in finding.message
