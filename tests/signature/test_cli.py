"""`curator signature`: the CLI contract's flags, JSON document and exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.signature.helpers import cli, sigstore_args


@pytest.mark.parametrize(("args", "words"), [
    ([], "no verification method"),
    (["--identity", "a@b"], "--identity and --issuer go together"),
    (["--identity", "a@b", "--issuer", "https://i", "--public-key", "k.pem"], "--public-key"),
    (["--public-key", "k.pem", "--trust-config", "t.json"], "Sigstore signatures only"),
    (["--certificate-chain", "absent-ca.pem"], "absent-ca.pem"),
    (["--public-key", "absent.pub"], "absent.pub"),
])
def test_usage_errors_exit_2_with_one_line(signed: Path, args: list[str], words: str) -> None:
    run = cli("signature", signed / "v1.1.0-elliptic-key", *args)
    assert run.code == 2 and words in run.err and run.err.count("\n") == 1 and run.out == ""


def test_a_path_that_is_not_a_folder_is_a_usage_error(signed: Path) -> None:
    run = cli("signature", signed / "README.md", *sigstore_args())
    assert run.code == 2 and "README.md is not a model folder" in run.err


def test_json_is_one_document_with_the_contract_keys(signed: Path) -> None:
    run = cli("signature", signed / "v1.1.0-sigstore", *sigstore_args(), "--json")
    doc = json.loads(run.out)  # the whole of stdout is one document
    assert {"status", "signer", "files", "error"} <= set(doc)
    assert all({"path", "sha256"} <= set(f) for f in doc["files"])
    assert run.err == ""


def test_signature_file_elsewhere(signed: Path, tmp_path: Path) -> None:
    """--signature points outside the folder: the folder then holds only model files."""
    import shutil

    model = tmp_path / "model"
    shutil.copytree(signed / "v1.1.0-sigstore", model)
    (model / "model.sig").chmod(0o644)
    (model / "model.sig").rename(tmp_path / "elsewhere.sig")
    ok = cli("signature", model, "--signature", tmp_path / "elsewhere.sig", *sigstore_args())
    assert ok.code == 0, ok.err
    missing = cli("signature", model, *sigstore_args(), "--json")
    assert missing.code == 1 and missing.json["status"] == "unsigned"


def test_human_output_names_signer_and_log_entry(signed: Path) -> None:
    run = cli("signature", signed / "v1.1.0-sigstore", *sigstore_args())
    assert run.code == 0 and run.out == ""
    assert "stefanb@us.ibm.com" in run.err and "Rekor log index 598151086" in run.err
