"""publishers.yaml parsing and matching, trust on first use against a real ledger."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from curator.core.errors import UsageError
from curator.ledger import Ledger
from curator.stages.signature.tofu import Publisher, judge, record_of, remember
from curator.stages.signature.trust import load_publishers, publisher_of, rule_for

SIGNER = {"kind": "sigstore", "identity": "a@acme.example", "issuer": "https://issuer.example"}


def _publishers(folder: Path, entries: list[object]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "publishers.yaml").write_text(yaml.safe_dump({"version": 1, "publishers": entries}))
    return folder


def test_the_shipped_publishers_file_loads() -> None:
    from tests.signature.helpers import REPO

    assert load_publishers(REPO / "checklists") == []


def test_org_and_pattern_rules_match_in_file_order(tmp_path: Path) -> None:
    folder = _publishers(tmp_path, [
        {"match": "acme/llama-*", "required": True, "signers": [{"key": "k.pub"}]},
        {"match": "acme", "signers": [{"sigstore": {"identity": "a@acme.example", "issuer": "https://i"}}]},
    ])
    rules = load_publishers(folder)
    assert rule_for(rules, "acme/llama-7b") is rules[0]
    assert rule_for(rules, "acme/other") is rules[1]
    assert rule_for(rules, "acmecorp/other") is None
    assert rules[0].signers[0].public_key == folder / "k.pub"
    assert publisher_of("acme/x") == "acme" and publisher_of("bare") == "bare"


@pytest.mark.parametrize(("entry", "words"), [
    ({"match": "acme", "requird": True}, "requird"),
    ({"required": True}, "match"),
    ({"match": "acme", "signers": [{"gpg": "x"}]}, "one of"),
    ({"match": "acme", "signers": [{"sigstore": {"identity": "a@b"}}]}, "identity and issuer"),
    ({"match": "acme", "signers": [{"certificate": {"subject": "CN=x"}}]}, "needs its CA"),
    ({"match": "acme", "signers": [{"key": {"public_key": "k.pub", "extra": 1}}]}, "takes only"),
])
def test_a_malformed_rule_is_refused_naming_the_file(tmp_path: Path, entry: object, words: str) -> None:
    with pytest.raises(UsageError) as caught:
        load_publishers(_publishers(tmp_path, [entry]))
    assert "publishers.yaml" in caught.value.diagnostics() and words in caught.value.diagnostics()


def test_first_use_records_once_then_matches_or_flags(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path / "ledger.db")
    acme = Publisher.of(None, "acme")
    try:
        first = judge(record_of(ledger, acme), acme, SIGNER)
        assert first.decision == "tofu-new" and not first.trusted
        assert remember(ledger, acme, SIGNER, "r1", frozenset())
        assert not remember(ledger, acme, SIGNER, "r1", frozenset())
        assert len(ledger.events(kind="signer_seen")) == 1
        assert judge(record_of(ledger, acme, "r1"), acme, SIGNER).decision == "tofu-new"  # same review
        renewed = {**SIGNER, "certificate_fingerprint": "sha256:new"}
        later = judge(record_of(ledger, acme, "r2"), acme, renewed)
        assert later.decision == "tofu-match" and later.trusted  # a new short-lived cert is fine
        other = judge(record_of(ledger, acme, "r3"), acme, {**SIGNER, "identity": "b@acme.example"})
        assert other.decision == "mismatch"
        assert "a@acme.example" in other.why and "b@acme.example" in other.why
        initech = Publisher.of(None, "initech")
        assert judge(record_of(ledger, initech), initech, SIGNER).decision == "tofu-new"
        issuer = judge(record_of(ledger, acme, "r5"), acme, {**SIGNER, "issuer": "https://evil.example"})
        assert issuer.decision == "mismatch"
        assert ledger.verify().ok
    finally:
        ledger.close()
