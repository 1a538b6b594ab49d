"""Trust on first use that cannot be poisoned: one record per (hub endpoint, case-folded org),
only a signer that fully checked out is recorded, and once one is on record an unsigned or
differently signed candidate fails naming it. Key-mode signers are recorded by fingerprint."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from curator.core.models import Status
from curator.ledger import Ledger
from curator.stages.signature.tofu import Publisher, records
from tests.signature.helpers import IDENTITY, ISSUER, checklists, make_key, make_model, review, sign_with_key

Copy = Callable[[str], Path]
EVIL_HUB = "http://127.0.0.1:9/evil-hub"
MAINTAINER = {"kind": "sigstore", "identity": "maintainer@tofu2.example", "issuer": ISSUER}


def test_a_first_signer_on_another_hub_does_not_poison_the_real_one(
        copy_fixture: Copy, tmp_path: Path, ledger: Ledger) -> None:
    policy = checklists(tmp_path / "cl", [])
    # the attacker's hub first: its signer is recorded for that hub only
    evil = review(copy_fixture("v1.1.0-sigstore"), "tofu2/model", policy, ledger, tmp_path / "w1",
                  endpoint=EVIL_HUB)
    assert evil.evidence["trust"]["decision"] == "tofu-new"
    assert evil.evidence["first_use"]["endpoint"] == EVIL_HUB and evil.evidence["first_use"]["recorded"]
    # the real hub: no record of its own yet, so the attacker's signer is not a match there
    real = review(copy_fixture("v1.0.0-sigstore"), "tofu2/model", policy, ledger, tmp_path / "w2")
    assert real.evidence["trust"]["decision"] == "tofu-new", real.evidence["trust"]
    on_record = records(ledger)
    assert set(on_record) == {Publisher.of(EVIL_HUB, "tofu2"), Publisher.of(None, "tofu2")}


def test_the_real_hubs_record_is_not_overridden_from_another_hub(
        copy_fixture: Copy, tmp_path: Path, ledger: Ledger) -> None:
    policy = checklists(tmp_path / "cl", [])
    ledger.append("signer_seen", {"publisher": "tofu2", "endpoint": "https://huggingface.co",
                                  "signer": MAINTAINER}, "r-real")
    other = review(copy_fixture("v1.1.0-sigstore"), "tofu2/model", policy, ledger, tmp_path / "w",
                   endpoint=EVIL_HUB)
    assert other.evidence["trust"]["decision"] == "tofu-new"  # another hub, another publisher
    real = review(copy_fixture("v1.0.0-sigstore"), "tofu2/model", policy, ledger, tmp_path / "w2",
                  endpoint="https://HuggingFace.co/")
    assert real.status == Status.FAILED and real.evidence["trust"]["decision"] == "mismatch"
    assert "maintainer@tofu2.example" in real.evidence["trust"]["why"]


def test_org_case_does_not_open_a_new_record(copy_fixture: Copy, tmp_path: Path, ledger: Ledger) -> None:
    policy = checklists(tmp_path / "cl", [])
    ledger.append("signer_seen", {"publisher": "tofu2", "endpoint": "https://huggingface.co",
                                  "signer": MAINTAINER}, "r-real")
    result = review(copy_fixture("v1.1.0-sigstore"), "TOFU2/model", policy, ledger, tmp_path / "w")
    assert result.status == Status.FAILED and result.evidence["trust"]["decision"] == "mismatch"
    assert "maintainer@tofu2.example" in result.evidence["trust"]["why"] and IDENTITY in result.evidence[
        "trust"]["why"]
    assert len(ledger.events(kind="signer_seen")) == 1


def test_a_failed_signature_is_never_recorded_so_the_genuine_release_still_comes_first(
        copy_fixture: Copy, tmp_path: Path, ledger: Ledger) -> None:
    policy = checklists(tmp_path / "cl", [])
    tampered = copy_fixture("v1.1.0-sigstore")
    (tampered / "signme-1").write_bytes(b"the attacker's weights")
    bad = review(tampered, "tofu3/model", policy, ledger, tmp_path / "w1")
    assert bad.status == Status.FAILED
    assert "signed-digest-mismatch" in {f.code for f in bad.findings}
    assert "not recorded" in bad.evidence["trust"]["why"]
    assert ledger.events(kind="signer_seen") == [] and not bad.evidence["first_use"]["recorded"]

    genuine = tmp_path / "genuine"
    shutil.copytree(copy_fixture("v1.0.0-sigstore"), genuine)
    good = review(genuine, "tofu3/model", policy, ledger, tmp_path / "w2")
    assert good.evidence["status"] == "verified" and good.evidence["trust"]["decision"] == "tofu-new"
    assert [e["payload"]["signer"]["identity"] for e in ledger.events(kind="signer_seen")] == [IDENTITY]


@pytest.mark.parametrize(("policy_value", "status"), [("fail", Status.FAILED), ("warn", Status.WARNED)])
def test_unsigned_after_first_use_names_the_signer_on_record(
        copy_fixture: Copy, tmp_path: Path, ledger: Ledger, policy_value: str, status: Status) -> None:
    policy = checklists(tmp_path / "cl", [], tofu_unsigned_after_first=policy_value)
    first = review(copy_fixture("v1.1.0-sigstore"), "tofu4/model", policy, ledger, tmp_path / "w1")
    assert first.evidence["first_use"]["recorded"]
    unsigned = copy_fixture("v1.0.0-sigstore")
    (unsigned / "model.sig").unlink()
    later = review(unsigned, "tofu4/other", policy, ledger, tmp_path / "w2")
    assert later.status == status
    finding = next(f for f in later.findings if f.code == "unsigned-after-first-use")
    assert IDENTITY in finding.message and ISSUER in finding.message and "model.sig" in finding.message
    assert later.evidence["first_use"]["on_record"]["signer"]["identity"] == IDENTITY


def _key_signed(folder: Path, key: Path, ship_public_key: bool, weights: bytes) -> Path:
    make_model(folder, {"model.safetensors": weights, "config.json": b"{}"})
    if ship_public_key:
        shutil.copy(key.with_suffix(".pub"), folder / "signing-key.pub")
    sign_with_key(folder, key)
    return folder


def test_key_mode_signers_are_recorded_by_fingerprint_and_held_to_it(tmp_path: Path, ledger: Ledger) -> None:
    from curator.stages.signature.verify import key_fingerprint

    policy = checklists(tmp_path / "cl", [])
    (tmp_path / "keys").mkdir()
    publisher_key = make_key(tmp_path / "keys" / "publisher.key")
    stranger = make_key(tmp_path / "keys" / "stranger.key")
    fingerprint = key_fingerprint(publisher_key.with_suffix(".pub"))[0]

    first = review(_key_signed(tmp_path / "m1", publisher_key, True, b"v1"), "tofu5/model", policy, ledger,
                   tmp_path / "w1")
    assert first.evidence["status"] == "verified" and first.evidence["trust"]["decision"] == "tofu-new"
    (seen,) = ledger.events(kind="signer_seen")
    assert seen["payload"]["signer"]["fingerprint"] == fingerprint
    assert "BEGIN PUBLIC KEY" in seen["payload"]["signer"]["public_key_pem"]

    # the same key, not shipped this time: checked with the key on record
    again = review(_key_signed(tmp_path / "m2", publisher_key, False, b"v2"), "tofu5/model", policy, ledger,
                   tmp_path / "w2")
    assert again.status == Status.PASSED, again.findings
    assert again.evidence["trust"]["decision"] == "tofu-match"

    # another key, shipped along: verifies, but is not the publisher's key on record
    swapped = review(_key_signed(tmp_path / "m3", stranger, True, b"v3"), "tofu5/model", policy, ledger,
                     tmp_path / "w3")
    assert swapped.status == Status.FAILED and swapped.evidence["trust"]["decision"] == "mismatch"
    assert fingerprint in swapped.evidence["trust"]["why"]

    # another key, not shipped: nothing it could be checked with but the key on record
    hidden = review(_key_signed(tmp_path / "m4", stranger, False, b"v4"), "tofu5/model", policy, ledger,
                    tmp_path / "w4")
    assert hidden.status == Status.FAILED
    assert "signature-invalid" in {f.code for f in hidden.findings}
    assert len(ledger.events(kind="signer_seen")) == 1
