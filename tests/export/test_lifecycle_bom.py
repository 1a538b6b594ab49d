"""Done-when of the AI-BOM: three models (waived critical findings; swapped and rolled back;
retired) and every fact of their lives in a strictly valid CycloneDX 1.6 BOM."""

from __future__ import annotations

import json
from typing import Any

from curator.export.bom import render, validate
from curator.inventory.build import build_inventory
from tests.export.lifecycle import (
    CONDITION,
    JUSTIFICATION,
    RETIRE_WHY,
    ROLLBACK_PLAN,
    ROLLBACK_WHY,
    SCAN_WAIVER,
    Three,
    three,
    three_built,
)

__all__ = ["three", "three_built"]


def _bom(t: Three) -> dict[str, Any]:
    text = render(build_inventory(t.session, t.registry))
    assert validate(text) == []
    document: dict[str, Any] = json.loads(text)
    return document


def _props(component: dict[str, Any]) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for p in component.get("properties", []):
        found.setdefault(p["name"], []).append(p["value"])
    return found


def test_bom_is_strictly_valid_and_has_the_three(three: Three) -> None:
    doc = _bom(three)
    assert doc["specVersion"] == "1.6"
    refs = {c["bom-ref"] for c in doc["components"]}
    assert {three.waived.ref, three.swap_v1.ref, three.swap_v2.ref, three.retired.ref} <= refs
    print(json.dumps(doc)[:100])


def test_waived_critical_findings_are_in_the_bom(three: Three) -> None:
    doc = _bom(three)
    model = next(c for c in doc["components"] if c["bom-ref"] == three.waived.ref)
    files = {f["name"]: _props(f) for f in model["components"] if f["type"] == "file"}
    pkl = files["optimizer.pkl"]
    assert pkl["curator:scan:verdict"] == ["blocked"]
    assert int(pkl["curator:scan:findings:critical"][0]) >= 1
    assert pkl["curator:scan:scanned_by"], "which scanners read the file, at which version"
    assert files["model.safetensors"]["curator:scan:verdict"] == ["clean"]
    props = _props(model)
    assert any(SCAN_WAIVER in v and "Bob Babbage" in v for v in props["curator:waiver:scan"])
    assert props["curator:stage:scan"] == ["failed"]
    vulns = [
        v
        for v in doc["vulnerabilities"]
        if v["affects"][0]["ref"] == f"{three.waived.ref}#file:optimizer.pkl"
    ]
    critical = [v for v in vulns if v["ratings"][0]["severity"] == "critical"]
    assert critical and all(SCAN_WAIVER in v["analysis"]["detail"] for v in critical)
    assert all(v["analysis"]["response"] == ["will_not_fix"] for v in critical)
    claims = {c["bom-ref"]: c for c in doc["declarations"]["claims"]}
    assert SCAN_WAIVER in claims[f"{three.waived.ref}#claim:scan"]["reasoning"]


def test_signed_decision_approvers_and_signature_state(three: Three) -> None:
    import base64

    doc = _bom(three)
    decl = doc["declarations"]
    evidence = {e["bom-ref"]: e for e in decl["evidence"]}
    decision = evidence[f"{three.swap_v1.ref}#evidence:decision"]
    envelope = json.loads(base64.b64decode(decision["data"][0]["contents"]["attachment"]["content"]))
    assert envelope["payloadType"] and envelope["signatures"][0]["sig"]
    keyid = three.signer.identity.keyid
    assert any(keyid in s["role"] and s["name"] == "Ada Lovelace" for s in decl["affirmation"]["signatories"])
    assert any(a["bom-ref"].endswith(keyid) for a in decl["assessors"])
    model = next(c for c in doc["components"] if c["bom-ref"] == three.swap_v1.ref)
    props = _props(model)
    assert any(keyid in v for v in props["curator:approver"])
    assert props["curator:signature:status"] == ["unsigned"]
    assert props["curator:condition"] == [CONDITION]
    assert [s["standards"][0]["bom-ref"] for s in [doc["definitions"]]] == ["curator-policy"]


def test_swap_rollback_and_production(three: Three) -> None:
    doc = _bom(three)
    by_ref = {c["bom-ref"]: _props(c) for c in doc["components"]}
    v1, v2 = by_ref[three.swap_v1.ref], by_ref[three.swap_v2.ref]
    assert v2["curator:swap:justification"] == [JUSTIFICATION]
    assert v2["curator:swap:rollback_plan"] == [ROLLBACK_PLAN]
    assert v2["curator:swap:replaces"][0].startswith(three.swap_v1.ref)
    assert v1["curator:replaced_by"][0].startswith(three.swap_v2.ref)
    assert v1["curator:production"] == ["true"] and v2["curator:production"] == ["false"]
    assert any(ROLLBACK_WHY in r and three.swap_v2.digest in r for r in v1["curator:rollback"])
    assert v2["curator:rolled_back_from"] == ["true"]


def test_retirement_and_card_facts(three: Three) -> None:
    doc = _bom(three)
    model = next(c for c in doc["components"] if c["bom-ref"] == three.retired.ref)
    props = _props(model)
    assert props["curator:status"] == ["retired"]
    assert props["curator:retired:by"] == ["Ada Lovelace"] and props["curator:retired:reason"] == [RETIRE_WHY]
    card = model["modelCard"]
    assert card["modelParameters"]["architectureFamily"] == "gpt2"
    data = [c for c in model["components"] if c["type"] == "data"]
    assert [d["name"] for d in data] == ["roneneldan/TinyStories"]
    assert card["modelParameters"]["datasets"] == [{"ref": data[0]["bom-ref"]}]
    assert card["quantitativeAnalysis"]["performanceMetrics"][0] == {
        "type": "acc",
        "value": "0.27",
        "slice": "acme-labs/tiny-mcq",
    }
    assert "considerations" not in card  # curator's verdicts are properties and declarations
    assert props["curator:measured:curator_basics:acc"] == ["0.31 ± 0.02"]
    assert props["curator:claim:curator_basics:acc"] == ["card claims 0.27, curator measured 0.31: ok"]
