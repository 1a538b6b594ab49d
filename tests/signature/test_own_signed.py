"""Models signed here (model-signing's signer API, keys and CAs made by the tests)."""

from __future__ import annotations

from pathlib import Path

import pytest

from curator.core.models import Status
from curator.ledger import Ledger
from tests.signature.helpers import (
    checklists,
    cli,
    make_ca_and_leaf,
    make_key,
    make_model,
    review,
    sign_with_certificate,
    sign_with_key,
    sigstore_signer,
)

FILES = {"model.safetensors": b"\x08\x00\x00\x00\x00\x00\x00\x00{}      " + b"\x00" * 64,
         "config.json": b'{"model_type": "gpt2"}', "tokenizer/vocab.json": b'{"a": 0}'}


@pytest.fixture
def keys(tmp_path: Path) -> dict[str, Path]:
    (tmp_path / "cl").mkdir()
    return {"acme": make_key(tmp_path / "cl" / "acme.pem"), "other": make_key(tmp_path / "other.pem")}


def test_key_listed_for_the_publisher_passes(tmp_path: Path, keys: dict[str, Path], ledger: Ledger) -> None:
    model = make_model(tmp_path / "m", FILES)
    sign_with_key(model, keys["acme"])
    policy = checklists(tmp_path / "cl", [{"match": "acme", "required": True,
                                           "signers": [{"key": "acme.pub"}]}])
    result = review(model, "acme/tiny", policy, ledger, tmp_path / "w")
    assert result.status == Status.PASSED, result.findings
    assert result.evidence["mode"] == "key" and result.evidence["trust"]["decision"] == "expected"
    assert {f["path"] for f in result.evidence["files"] if f["state"] == "match"} == set(FILES)
    assert "transparency" not in result.evidence


def test_another_key_than_the_listed_one_fails(tmp_path: Path, keys: dict[str, Path], ledger: Ledger) -> None:
    model = make_model(tmp_path / "m", FILES)
    sign_with_key(model, keys["other"])
    policy = checklists(tmp_path / "cl", [{"match": "acme", "required": True,
                                           "signers": [{"key": "acme.pub"}]}])
    result = review(model, "acme/tiny", policy, ledger, tmp_path / "w")
    assert result.status == Status.FAILED
    assert any(f.code == "signature-invalid" and "acme.pub" in f.message for f in result.findings)


def test_key_signed_model_from_a_sigstore_publisher_fails_as_wrong_mode(
        tmp_path: Path, keys: dict[str, Path], ledger: Ledger) -> None:
    model = make_model(tmp_path / "m", FILES)
    sign_with_key(model, keys["acme"])
    policy = checklists(tmp_path / "cl", [{"match": "acme", "signers": [sigstore_signer()]}])
    result = review(model, "acme/tiny", policy, ledger, tmp_path / "w")
    assert result.status == Status.FAILED
    assert any(f.code == "signature-wrong-mode" for f in result.findings)


def test_key_signed_model_of_an_unlisted_publisher_cannot_be_checked(
        tmp_path: Path, keys: dict[str, Path], ledger: Ledger) -> None:
    model = make_model(tmp_path / "m", FILES)
    sign_with_key(model, keys["acme"])
    result = review(model, "nobody/tiny", checklists(tmp_path / "cl", []), ledger, tmp_path / "w")
    assert result.status == Status.WARNED and result.evidence["status"] == "unsigned"
    assert any(f.code == "signature-unverifiable" and "public key" in f.message for f in result.findings)


@pytest.mark.parametrize(("subject", "status"), [("CN=release-signer", Status.PASSED),
                                                 ("CN=someone-else", Status.FAILED), ("", Status.PASSED)])
def test_certificate_signer_checked_against_ca_and_subject(
        tmp_path: Path, ledger: Ledger, subject: str, status: Status) -> None:
    pki = make_ca_and_leaf(tmp_path / "cl")
    model = make_model(tmp_path / "m", FILES)
    sign_with_certificate(model, pki)
    signer = {"certificate": {"ca": "acme-root.pem", **({"subject": subject} if subject else {})}}
    policy = checklists(tmp_path / "cl", [{"match": "acme/*", "required": True, "signers": [signer]}])
    result = review(model, "acme/tiny", policy, ledger, tmp_path / "w")
    assert result.status == status, result.findings
    assert result.evidence["signer"]["subject"] == "CN=release-signer"
    if status == Status.FAILED:
        assert "CN=someone-else" in result.evidence["trust"]["why"]


def test_certificate_from_another_ca_fails(tmp_path: Path, ledger: Ledger) -> None:
    mine, theirs = make_ca_and_leaf(tmp_path / "cl"), make_ca_and_leaf(tmp_path / "x", ca_name="evil")
    model = make_model(tmp_path / "m", FILES)
    sign_with_certificate(model, theirs)
    signer = {"certificate": {"ca": mine["ca"].name}}
    policy = checklists(tmp_path / "cl", [{"match": "acme", "signers": [signer]}])
    result = review(model, "acme/tiny", policy, ledger, tmp_path / "w")
    assert result.status == Status.FAILED
    assert any("acme-root.pem" in f.message for f in result.findings if f.code == "signature-invalid")


def test_a_certificate_signer_without_its_ca_is_refused(tmp_path: Path, ledger: Ledger) -> None:
    model = make_model(tmp_path / "m", FILES)
    signer = {"certificate": {"subject": "CN=x"}}
    policy = checklists(tmp_path / "cl", [{"match": "acme", "signers": [signer]}])
    result = review(model, "acme/tiny", policy, ledger, tmp_path / "w")
    assert result.status == Status.ERRORED and "needs its CA" in result.findings[0].message


@pytest.mark.parametrize("ignored_by_signer", [True, False])
def test_a_card_outside_the_signature_is_a_finding_not_a_failure(
        tmp_path: Path, keys: dict[str, Path], ledger: Ledger, ignored_by_signer: bool) -> None:
    model = make_model(tmp_path / "m", FILES)
    sign_with_key(model, keys["acme"], ignore=["README.md"] if ignored_by_signer else [])
    (model / "README.md").write_text("# Tiny\nlicense: apache-2.0\n")
    policy = checklists(tmp_path / "cl", [{"match": "acme", "signers": [{"key": "acme.pub"}]}])
    result = review(model, "acme/tiny", policy, ledger, tmp_path / "w")
    assert result.status == Status.WARNED, result.findings
    assert [f.code for f in result.findings] == ["card-unsigned"]
    row = next(f for f in result.evidence["files"] if f["path"] == "README.md")
    assert row["state"] == ("ignored" if ignored_by_signer else "unsigned")


def test_a_signed_card_that_changed_fails(tmp_path: Path, keys: dict[str, Path], ledger: Ledger) -> None:
    model = make_model(tmp_path / "m", {**FILES, "README.md": b"# Tiny\n"})
    sign_with_key(model, keys["acme"])
    (model / "README.md").write_text("# Tiny\nNow with better benchmark claims.\n")
    policy = checklists(tmp_path / "cl", [{"match": "acme", "signers": [{"key": "acme.pub"}]}])
    result = review(model, "acme/tiny", policy, ledger, tmp_path / "w")
    assert result.status == Status.FAILED
    assert any(f.code == "signed-digest-mismatch" and f.file == "README.md" for f in result.findings)


@pytest.mark.parametrize(("setting", "status"), [("fail", Status.FAILED), ("warn", Status.WARNED)])
def test_unsigned_files_fail_or_warn_by_policy(tmp_path: Path, keys: dict[str, Path], ledger: Ledger,
                                               setting: str, status: Status) -> None:
    model = make_model(tmp_path / "m", FILES)
    sign_with_key(model, keys["acme"])
    (model / "extra_notes.txt").write_text("not weights, not code: the policy decides")
    policy = checklists(tmp_path / "cl", [{"match": "acme", "signers": [{"key": "acme.pub"}]}],
                        unsigned_files=setting)
    result = review(model, "acme/tiny", policy, ledger, tmp_path / "w")
    assert result.status == status
    finding = next(f for f in result.findings if f.code == "unsigned-file")
    assert finding.file == "extra_notes.txt" and "SHA-256" in finding.message


def test_reviewer_ignore_paths_excuse_unsigned_files_but_never_hide_signed_ones(
        tmp_path: Path, keys: dict[str, Path], ledger: Ledger) -> None:
    model = make_model(tmp_path / "m", FILES)
    sign_with_key(model, keys["acme"])
    (model / "notes.txt").write_text("local notes")
    (model / "config.json").write_text('{"model_type": "evil"}')
    policy = checklists(tmp_path / "cl", [{"match": "acme", "signers": [{"key": "acme.pub"}]}],
                        ignore_paths=["notes.txt", "config.json"])
    result = review(model, "acme/tiny", policy, ledger, tmp_path / "w")
    states = {f["path"]: f["state"] for f in result.evidence["files"]}
    assert states["notes.txt"] == "ignored" and states["config.json"] == "mismatch"
    assert result.status == Status.FAILED


def test_sharded_signatures_are_compared_shard_by_shard(tmp_path: Path, keys: dict[str, Path]) -> None:
    model = make_model(tmp_path / "m", {"weights.bin": bytes(range(256)) * 40, "config.json": b"{}"})
    sign_with_key(model, keys["acme"], shards=4096)
    pub = keys["acme"].with_suffix(".pub")
    ok = cli("signature", model, "--public-key", pub, "--json")
    assert ok.code == 0, ok.err
    assert {f["path"] for f in ok.json["files"] if f["state"] == "match"} == {"weights.bin", "config.json"}
    data = bytearray((model / "weights.bin").read_bytes())
    data[5000] ^= 0xFF
    (model / "weights.bin").write_bytes(bytes(data))
    bad = cli("signature", model, "--public-key", pub, "--json")
    assert bad.code == 1 and "weights.bin" in bad.json["error"] and "bytes 4096-8192" in bad.json["error"]
