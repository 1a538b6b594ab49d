"""The CycloneDX 1.6 AI-BOM of a real inventory, validated with cyclonedx-python-lib's strict
JSON schema validator (offline)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from curator.export.bom import bom_document, render, validate
from curator.inventory.build import build_inventory
from curator.registry.layout import LayoutRegistry
from tests.decision.helpers import cli
from tests.export.conftest import WAIVER_REASON, Adoptions


def _components(adopted: Adoptions) -> dict[str, Any]:
    s = adopted.session
    document = bom_document(build_inventory(s, LayoutRegistry(s.workspace.registry_dir)))
    return {c["bom-ref"]: c for c in document["components"]}


def test_bom_validates_against_cyclonedx_1_6(adopted: Adoptions) -> None:
    s = adopted.session
    text = render(build_inventory(s, LayoutRegistry(s.workspace.registry_dir)))
    assert validate(text) == []
    document = json.loads(text)
    assert document["bomFormat"] == "CycloneDX" and document["specVersion"] == "1.6"
    assert [c["type"] for c in document["components"]] == ["machine-learning-model"] * 2


def test_each_model_carries_hashes_license_card_pedigree_and_links(adopted: Adoptions) -> None:
    one = _components(adopted)[adopted.first.ref]
    two = _components(adopted)[adopted.second.ref]
    assert {"alg": "SHA-256", "content": adopted.first.digest.split(":")[1]} in one["hashes"]
    files = {f["name"]: f["hashes"][0]["content"] for f in one["components"] if f["type"] == "file"}
    weights = (adopted.first.folder / "model.safetensors").read_bytes()
    assert files["model.safetensors"] == hashlib.sha256(weights).hexdigest()
    assert one["licenses"] == [{"license": {"id": "Apache-2.0"}}]
    card = two["modelCard"]
    assert card["modelParameters"]["task"] == "text-generation"
    assert card["modelParameters"]["architectureFamily"] == "gpt2"
    datasets = {c["name"]: c["bom-ref"] for c in two["components"] if c["type"] == "data"}
    assert {"ref": datasets["roneneldan/TinyStories"]} in card["modelParameters"]["datasets"]
    # the card's claim in the model card; curator's own measurement beside it as properties
    assert card["quantitativeAnalysis"]["performanceMetrics"] == [
        {"type": "acc", "value": "0.27", "slice": "acme-labs/tiny-mcq"}]
    measured = {p["name"]: p["value"] for p in two["properties"]}
    assert measured["curator:measured:curator_basics:acc"] == "0.12 ± 0.01"
    assert measured["curator:claim:curator_basics:acc"] == \
        "card claims 0.27, curator measured 0.12: not-reproduced"
    assert [a["name"] for a in two["pedigree"]["ancestors"]] == ["tiny-one"]
    refs = {r["type"]: r["url"] for r in two["externalReferences"]}
    assert refs["attestation"].endswith(f"@{adopted.second.digest}")
    assert refs["component-analysis-report"] == f"urn:curator:review:{adopted.second.review_id}"
    props = {p["name"]: p["value"] for p in two["properties"]}
    assert props["curator:status"] == "approved" and props["curator:review_id"] == adopted.second.review_id
    assert props["curator:waiver:eval"].endswith(WAIVER_REASON)
    assert all(p["name"].startswith("curator:") for p in two["properties"])


def test_validation_catches_a_broken_bom(adopted: Adoptions) -> None:
    s = adopted.session
    document = json.loads(render(build_inventory(s, LayoutRegistry(s.workspace.registry_dir))))
    document["components"][0]["modelCard"]["quantitativeAnalysis"]["performanceMetrics"][0]["value"] = 0.5
    assert validate(json.dumps(document)) != []
    document = json.loads(render(build_inventory(s, LayoutRegistry(s.workspace.registry_dir))))
    document["declarations"]["claims"][0]["evidence"] = "not a list"
    assert validate(json.dumps(document)) != []


def test_bom_cli_writes_a_valid_file(adopted: Adoptions, tmp_path: Path) -> None:
    out = tmp_path / "bom.json"
    done = cli("bom", "-o", str(out), "--validate", "--report-base", "https://reports.example.org/curator/")
    assert done.returncode == 0, done.stderr
    assert "valid CycloneDX 1.6" in done.stderr and done.stdout == ""
    document = json.loads(out.read_text())
    urls = [r["url"] for c in document["components"] for r in c["externalReferences"]]
    assert f"https://reports.example.org/curator/{adopted.first.review_id}.html" in urls
