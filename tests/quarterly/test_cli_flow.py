"""`curator quarterly` end to end through the real CLI: all OK, one tampered blob fails exactly
that model, the lead retires it with a signed rationale and `curator verify` refuses it."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from pathlib import Path

from curator.quarterly.run import CHECKS
from tests.decision.helpers import cli
from tests.export.conftest import Adoptions
from tests.export.helpers import blob_path, tamper


def _quarterly_json(*extra: str) -> tuple[int, dict[str, object]]:
    done = cli("quarterly", "--json", *extra)
    assert done.returncode in (0, 1), done.stderr
    return done.returncode, json.loads(done.stdout)


def _models(document: dict[str, object]) -> dict[str, dict[str, object]]:
    return {str(m["ref"]): m for m in document["models"]}  # type: ignore[attr-defined]


def test_all_ok_then_one_tampered_blob_fails_exactly_that_model(adopted: Adoptions) -> None:
    done = cli("quarterly", "--headless")
    assert done.returncode == 0, done.stderr
    # tiny-two's eval errored and was waived: approved without evaluation is flagged, not failed
    assert "2 model(s) checked: 1 ok, 1 warn, 0 fail" in done.stderr
    assert "approved without a passing evaluation: eval errored" in done.stderr
    code, document = _quarterly_json()
    assert code == 0 and document["ok"] is True
    for model in _models(document).values():
        assert [c["name"] for c in model["checks"]] == list(CHECKS)  # type: ignore[index]
    weights = (adopted.second.folder / "model.safetensors").read_bytes()
    tamper(blob_path(adopted.session, hashlib.sha256(weights).hexdigest()))
    done = cli("quarterly", "--headless")
    assert done.returncode == 1
    assert f"✘ [2/2] {adopted.second.ref}: fail" in done.stderr and "tampered-blob" in done.stderr
    code, document = _quarterly_json()
    models = _models(document)
    assert code == 1 and models[adopted.first.ref]["outcome"] == "ok"
    assert models[adopted.second.ref]["outcome"] == "fail"
    assert models[adopted.second.ref]["failed"] == ["verify"]
    inventory = json.loads(cli("inventory", "--json").stdout)
    status = {m["ref"]: (m["status"], m["reasons"]) for m in inventory["models"]}
    assert status[adopted.first.ref] == ("approved", [])
    assert status[adopted.second.ref] == ("needs-re-review", ["the last quarterly check failed: verify"])


def test_retire_is_signed_and_verify_refuses_the_model(adopted: Adoptions, tmp_path: Path) -> None:
    weights = (adopted.second.folder / "model.safetensors").read_bytes()
    tamper(blob_path(adopted.session, hashlib.sha256(weights).hexdigest()))
    assert cli("quarterly", "--headless").returncode == 1
    refused = cli("quarterly", "keep", adopted.second.ref, "--rationale", "looks fine")
    assert refused.returncode == 1 and "failed verify in its last check" in refused.stderr
    retired = cli("quarterly", "retire", adopted.second.ref, "--rationale", "registry copy altered", "--json")
    assert retired.returncode == 0, retired.stderr
    outcome = json.loads(retired.stdout)
    assert outcome["action"] == "retire" and outcome["tag_removed"] is True and outcome["rejection_id"]
    by_tag = cli("verify", adopted.second.ref, "--json")
    assert by_tag.returncode == 1 and json.loads(by_tag.stdout)["reason"] == "retired"
    human = cli("verify", adopted.second.ref)
    today = dt.datetime.now(dt.UTC).date().isoformat()
    assert human.returncode == 1 and "not-found" not in human.stderr
    assert f"retired on {today} by Ada Lovelace: registry copy altered" in human.stderr
    assert cli("pull", adopted.second.ref, str(tmp_path / "out")).returncode == 1
    name = adopted.second.ref.rsplit(":", 1)[0]
    by_digest = cli("verify", f"{name}@{adopted.second.digest}", "--json")
    assert by_digest.returncode == 1
    assert "retired" in [p["code"] for p in json.loads(by_digest.stdout)["problems"]]
    assert cli("verify", adopted.first.ref).returncode == 0
    event = adopted.session.ledger.events(adopted.second.review_id, kind="quarterly_action")[-1]["payload"]
    assert event["rationale"] == "registry copy altered" and event["curator"]["name"] == "Ada Lovelace"
    inventory = {m["ref"]: m for m in json.loads(cli("inventory", "--json").stdout)["models"]}
    assert inventory[adopted.second.ref]["status"] == "retired"
    done = cli("quarterly", "--headless", "--report", str(tmp_path / "quarter.md"))
    assert done.returncode == 0, done.stderr
    assert "1 model(s) checked: 1 ok, 0 warn, 0 fail, 1 retired (not checked)" in done.stderr
    again = cli("quarterly", "retire", adopted.second.ref, "--rationale", "twice")
    assert again.returncode == 1 and "is already retired" in again.stderr


def test_retiring_a_base_model_fails_the_models_built_on_it(adopted: Adoptions, tmp_path: Path) -> None:
    assert cli("quarterly", "--headless").returncode == 0
    assert cli("quarterly", "retire", adopted.first.ref, "--rationale", "license withdrawn").returncode == 0
    code, document = _quarterly_json()
    (only,) = document["models"]  # type: ignore[misc]
    assert code == 1 and only["ref"] == adopted.second.ref and only["failed"] == ["base-model"]
    base = next(c for c in only["checks"] if c["name"] == "base-model")
    assert "local/tiny-one" in base["message"] and "license withdrawn" in base["message"]
    report = cli("quarterly", "report", "--format", "md")
    assert report.returncode == 0, report.stderr
    assert "| 1 | 0 | 0 | 1 | 1 |" in report.stdout
    assert "base-model" in report.stdout and "license withdrawn" in report.stdout


def test_keep_after_a_clean_check_is_signed(adopted: Adoptions) -> None:
    before = cli("quarterly", "keep", adopted.first.ref, "--rationale", "still needed")
    assert before.returncode == 1 and "has not been checked yet" in before.stderr
    assert cli("quarterly", "--headless").returncode == 0
    kept = cli("quarterly", "keep", adopted.first.ref, "--rationale", "still needed", "--json")
    assert kept.returncode == 0, kept.stderr
    action = adopted.session.ledger.events(adopted.first.review_id, kind="quarterly_action")[-1]["payload"]
    assert action["action"] == "keep" and action["action_id"] == json.loads(kept.stdout)["action_id"]
    from curator.attest.dsse import verify_envelope
    from curator.decision.verify import trusted_curators

    s = adopted.session
    verified = verify_envelope(action["envelope"].encode(), trusted_curators(s.policy))
    assert verified.statement["predicate"]["action"] == "keep"
    assert verified.statement["subject"][0]["digest"]["sha256"] == adopted.first.digest.split(":")[1]
    assert cli("verify", adopted.first.ref).returncode == 0
