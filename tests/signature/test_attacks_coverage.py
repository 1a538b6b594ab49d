"""Attacks on what a signature covers: files it does not name, names that look alike, paths that
hide weights. Each is a real model signed with model-signing, then changed as an attacker with
write access to the hub repo (but not the publisher's key) would change it."""

from __future__ import annotations

import shutil
import unicodedata
from collections.abc import Callable
from pathlib import Path

import pytest

from curator.core.models import Status
from curator.ledger import Ledger
from tests.signature.helpers import SIGNED, checklists, cli, make_key, make_model, review, sign_with_key

Copy = Callable[[str], Path]
KEY_FIXTURE = "v1.1.0-elliptic-key"
PICKLE = b"\x80\x04\x95\x05\x00\x00\x00\x00\x00\x00\x00\x8c\x01x\x94."  # harmless: the string 'x'
FILES = {"model.safetensors": b"\x08\x00\x00\x00\x00\x00\x00\x00{}      " + b"\x00" * 64,
         "config.json": b'{"model_type": "gpt2"}'}


def _key_args() -> list[str]:
    return ["--public-key", str(SIGNED / "keys" / "signing-key-pub.pem")]


def _acme(tmp_path: Path, **signature: object) -> object:
    (tmp_path / "cl").mkdir(exist_ok=True)
    if not (tmp_path / "cl" / "acme.pem").exists():
        make_key(tmp_path / "cl" / "acme.pem")
    return checklists(tmp_path / "cl", [{"match": "acme", "signers": [{"key": "acme.pub"}]}], **signature)


# -- paths model-signing leaves out of every signature ----------------------------------------
@pytest.mark.parametrize("hidden", [".github/pytorch_model.bin", ".github/workflows/model.safetensors",
                                    ".gitignore.d/modeling_evil.py"])
def test_weights_under_a_git_path_are_not_excused_by_the_git_ignore(copy_fixture: Copy, hidden: str) -> None:
    """model-signing never hashes `.github` & co: weights (or code) dropped there are unsigned."""
    model = copy_fixture(KEY_FIXTURE)
    (model / hidden).parent.mkdir(parents=True, exist_ok=True)
    (model / hidden).write_bytes(PICKLE)
    run = cli("signature", model, *_key_args(), "--ignore", "ignore-me", "--json")
    assert run.code == 1, run.json
    assert run.json["status"] == "failed" and hidden in run.json["error"]
    assert any(f["code"] == "weights-not-signed" for f in run.json["findings"])


def test_a_folder_the_signer_ignored_cannot_carry_weights(tmp_path: Path, ledger: Ledger) -> None:
    policy = _acme(tmp_path)
    model = make_model(tmp_path / "m", {**FILES, "cache/notes.txt": b"scratch"})
    sign_with_key(model, tmp_path / "cl" / "acme.pem", ignore=["cache"])
    (model / "cache" / "pytorch_model.bin").write_bytes(PICKLE)
    result = review(model, "acme/tiny", policy, ledger, tmp_path / "w")
    assert result.status == Status.FAILED, result.findings
    [finding] = [f for f in result.findings if f.code == "weights-not-signed"]
    assert finding.file == "cache/pytorch_model.bin" and "cache" in finding.message
    assert {f["path"]: f["state"] for f in result.evidence["files"]}["cache/notes.txt"] == "ignored"


def test_a_weight_file_the_signer_itself_ignored_is_not_vouched_for(tmp_path: Path, ledger: Ledger) -> None:
    """The ignore list is signed, so the publisher chose it; still, unsigned weights are unsigned."""
    policy = _acme(tmp_path)
    model = make_model(tmp_path / "m", {**FILES, "extra.safetensors": b"\x00" * 32})
    sign_with_key(model, tmp_path / "cl" / "acme.pem", ignore=["extra.safetensors"])
    result = review(model, "acme/tiny", policy, ledger, tmp_path / "w")
    assert result.status == Status.FAILED
    assert any(f.code == "weights-not-signed" and f.file == "extra.safetensors" for f in result.findings)


@pytest.mark.parametrize("name", ["pytorch_model.bin", "modeling_acme.py", "sub/ADAPTER.SAFETENSORS"])
def test_unsigned_weights_or_code_fail_even_when_unsigned_files_only_warn(tmp_path: Path, ledger: Ledger,
                                                                          name: str) -> None:
    policy = _acme(tmp_path, unsigned_files="warn")
    model = make_model(tmp_path / "m", FILES)
    sign_with_key(model, tmp_path / "cl" / "acme.pem")
    make_model(model, {name: PICKLE})
    result = review(model, "acme/tiny", policy, ledger, tmp_path / "w")
    assert result.status == Status.FAILED, result.findings
    assert any(f.code == "weights-not-signed" and f.file == name for f in result.findings)


def test_the_reviewers_own_ignore_paths_never_excuse_weights(tmp_path: Path, ledger: Ledger) -> None:
    policy = _acme(tmp_path, ignore_paths=["extra"])
    model = make_model(tmp_path / "m", FILES)
    sign_with_key(model, tmp_path / "cl" / "acme.pem")
    make_model(model, {"extra/model-00002.safetensors": b"\x00" * 16, "extra/readme.txt": b"notes"})
    result = review(model, "acme/tiny", policy, ledger, tmp_path / "w")
    assert result.status == Status.FAILED
    states = {f["path"]: f["state"] for f in result.evidence["files"]}
    assert states["extra/readme.txt"] == "ignored"
    hidden = [f.file for f in result.findings if f.code == "weights-not-signed"]
    assert hidden == ["extra/model-00002.safetensors"]


def test_a_signature_that_vouches_for_no_file_is_no_signature(tmp_path: Path, ledger: Ledger) -> None:
    policy = _acme(tmp_path)
    model = make_model(tmp_path / "m", {"config.json": b"{}", "tokenizer.json": b"{}"})
    sign_with_key(model, tmp_path / "cl" / "acme.pem", ignore=["config.json", "tokenizer.json"])
    result = review(model, "acme/tiny", policy, ledger, tmp_path / "w")
    assert result.status == Status.FAILED, result.findings
    assert any(f.code == "signature-covers-nothing" for f in result.findings)


# -- a signature about other files ------------------------------------------------------------
def test_another_models_signature_does_not_vouch_for_this_one(tmp_path: Path) -> None:
    """The publisher's real signature (of the fixture model), copied beside other weights."""
    model = make_model(tmp_path / "m", {"signme-1": b"other bytes", "signme-2": b"x"})
    shutil.copy(SIGNED / KEY_FIXTURE / "model.sig", model / "model.sig")
    run = cli("signature", model, *_key_args(), "--json")
    assert run.code == 1 and run.json["status"] == "failed"
    states = {f["path"]: f["state"] for f in run.json["files"]}
    assert states["signme-1"] == states["signme-2"] == "mismatch"


@pytest.mark.parametrize("twin", ["SIGNME-1", "signme-1 ", "signme\u20101"])
def test_a_look_alike_name_beside_a_signed_file_is_unsigned(copy_fixture: Copy, twin: str) -> None:
    model = copy_fixture(KEY_FIXTURE)
    (model / twin).write_bytes(PICKLE)
    run = cli("signature", model, *_key_args(), "--ignore", "ignore-me", "--json")
    assert run.code == 1
    assert {f["path"]: f["state"] for f in run.json["files"]}[twin] == "unsigned"


def test_an_nfd_twin_of_a_signed_nfc_name_is_unsigned(tmp_path: Path) -> None:
    key = make_key(tmp_path / "k.pem")
    nfc = unicodedata.normalize("NFC", "café.bin")
    model = make_model(tmp_path / "m", {nfc: b"\x00" * 8})
    sign_with_key(model, key)
    nfd = unicodedata.normalize("NFD", nfc)
    (model / nfd).write_bytes(PICKLE)
    run = cli("signature", model, "--public-key", key.with_suffix(".pub"), "--json")
    assert run.code == 1
    states = {f["path"]: f["state"] for f in run.json["files"]}
    assert states[nfc] == "match" and states[nfd] == "unsigned"


def test_a_folder_named_like_a_signed_file_fails(copy_fixture: Copy) -> None:
    model = copy_fixture(KEY_FIXTURE)
    (model / "signme-2").unlink()
    make_model(model, {"signme-2/weights.bin": PICKLE})
    run = cli("signature", model, *_key_args(), "--ignore", "ignore-me", "--json")
    assert run.code == 1
    states = {f["path"]: f["state"] for f in run.json["files"]}
    assert states["signme-2"] == "missing" and states["signme-2/weights.bin"] == "unsigned"


def test_a_symlink_to_a_signed_file_inside_the_folder_is_not_that_file(copy_fixture: Copy) -> None:
    model = copy_fixture(KEY_FIXTURE)
    (model / "signme-2").unlink()
    (model / "signme-2").symlink_to("signme-1")
    run = cli("signature", model, *_key_args(), "--ignore", "ignore-me", "--json")
    assert run.code == 1 and {f["path"]: f["state"] for f in run.json["files"]}["signme-2"] == "mismatch"


# -- the signature file itself ----------------------------------------------------------------
def test_a_signature_file_that_is_a_symlink_is_refused(copy_fixture: Copy, tmp_path: Path) -> None:
    """A link could read any bundle on the reviewing machine, a real one of another model included."""
    model = copy_fixture(KEY_FIXTURE)
    elsewhere = tmp_path / "elsewhere.sig"
    (model / "model.sig").rename(elsewhere)
    (model / "model.sig").symlink_to(elsewhere)
    run = cli("signature", model, *_key_args(), "--ignore", "ignore-me", "--json")
    assert run.code == 1 and run.json["status"] == "failed"
    assert "model.sig" in run.json["error"] and "link" in run.json["error"]


def test_a_signature_path_that_is_a_folder_is_refused_not_unsigned(tmp_path: Path, ledger: Ledger) -> None:
    policy = _acme(tmp_path)
    model = make_model(tmp_path / "m", {**FILES, "model.sig/model.safetensors": PICKLE})
    result = review(model, "acme/tiny", policy, ledger, tmp_path / "w")
    assert result.status in (Status.FAILED, Status.ERRORED), result.findings
    assert any("model.sig" in f.message and "not a file" in f.message for f in result.findings)


def test_a_second_signature_file_is_just_an_unsigned_file(copy_fixture: Copy, tmp_path: Path) -> None:
    """Only model.sig is read; a second bundle (another signer's) beside it is not covered by it."""
    model = copy_fixture(KEY_FIXTURE)
    other = make_model(tmp_path / "other", {"signme-1": b"evil"})
    sign_with_key(other, make_key(tmp_path / "attacker.pem"))
    shutil.copy(other / "model.sig", model / "model.sig.2")
    run = cli("signature", model, *_key_args(), "--ignore", "ignore-me", "--json")
    assert run.code == 1 and "model.sig.2" in run.json["error"]
