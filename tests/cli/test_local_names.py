"""`curator review DIR --name ORG/NAME --publisher ORG`: a local folder reviewed as the model it
claims to be, so its publisher's rules hold it (not `local/<folder>`, publisher `local`)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from tests.decision.helpers import cli, isolated_checklists, make_model


def _review(model: Path, *extra: str) -> dict[str, object]:
    done = cli("review", str(model), "--headless", "--json", "--only", "fetch", *extra)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)  # type: ignore[no-any-return]


@pytest.mark.parametrize(("extra", "repo_id"), [
    ([], "local/tiny"),
    (["--name", "acme-labs/tinyllama"], "acme-labs/tinyllama"),
    (["--publisher", "acme-labs"], "acme-labs/tiny"),
    (["--name", "acme-labs/tinyllama", "--publisher", "acme-labs"], "acme-labs/tinyllama"),
])
def test_the_folder_is_reviewed_under_the_name_given(tmp_path: Path, extra: list[str], repo_id: str) -> None:
    candidate = _review(make_model(tmp_path / "tiny"), *extra)["candidate"]
    assert candidate["repo_id"] == repo_id and candidate["source"] == "local"  # type: ignore[index]


@pytest.mark.parametrize(("target", "extra", "says"), [
    ("folder", ["--name", "tinyllama"], "--name 'tinyllama' is not ORG/NAME"),
    ("folder", ["--publisher", "acme/labs"], "--publisher 'acme/labs' is not an organisation name"),
    ("folder", ["--name", "acme-labs/x", "--publisher", "acme-1abs"], "is not published by --publisher"),
    ("acme-labs/tinyllama", ["--name", "acme-labs/x"], "apply to local folders"),
])
def test_a_bad_name_is_a_usage_error(tmp_path: Path, target: str, extra: list[str], says: str) -> None:
    where = str(make_model(tmp_path / "tiny")) if target == "folder" else target
    done = cli("review", where, "--headless", *extra)
    assert done.returncode == 2 and done.stdout == "" and done.stderr.count("\n") == 1, done.stderr
    assert says in done.stderr


def test_the_publishers_rules_hold_a_named_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    checklists = isolated_checklists(tmp_path / "checklists", ["fetch", "signature"])
    publishers = {"version": 1, "publishers": [{"match": "acme-labs", "required": True,
                                                  "signers": [{"key": str(tmp_path / "acme.pub")}]}]}
    (checklists / "publishers.yaml").write_text(yaml.safe_dump(publishers))
    monkeypatch.setenv("CURATOR_CHECKLISTS", str(checklists))
    model = make_model(tmp_path / "tiny")  # unsigned
    as_local = cli("review", str(model), "--headless", "--json")
    named = cli("review", str(model), "--headless", "--json", "--publisher", "acme-labs")
    assert json.loads(as_local.stdout)["stages"]["signature"]["status"] != "failed"
    assert named.returncode == 1, named.stderr
    signature = json.loads(named.stdout)["stages"]["signature"]
    assert signature["status"] == "failed"
    assert any("acme-labs is listed as required to sign" in f["message"] for f in signature["findings"])
