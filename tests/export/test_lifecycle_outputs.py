"""Done-when of the reports and the inventory: the three models' facts (waived critical findings;
swap, rollback and production; retirement) in ``inventory --json``, every report format (PDF
read back with pdftotext), the quarterly report, and ``bom --diff``. All through the real CLI."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest

from curator.export.bom import validate
from curator.export.report_html import CSS
from tests.decision.helpers import cli
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
from tests.needs import need_binary

__all__ = ["three", "three_built"]


def _ok(*args: str) -> str:
    done = cli(*args)
    assert done.returncode == 0, done.stderr
    return done.stdout


def _inventory(t: Three) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(_ok("inventory", "--json"))
    return {m["ref"]: m for m in document["models"]}


def test_inventory_json_carries_production_swap_conditions_signature(three: Three) -> None:
    models = _inventory(three)
    v1, v2 = models[three.swap_v1.ref], models[three.swap_v2.ref]
    assert v1["production"]["in_production"] is True and v2["production"]["in_production"] is False
    assert v1["production"]["digest"] == three.swap_v1.digest
    assert v1["replaced_by"] == [three.swap_v2.ref]
    assert v1["conditions"] == [CONDITION] and v1["decision"]["conditions"] == [CONDITION]
    assert v2["change"]["justification"] == JUSTIFICATION and v2["change"]["rollback_plan"] == ROLLBACK_PLAN
    assert [r["rationale"] for r in v1["rollbacks"]] == [ROLLBACK_WHY]
    assert v1["signature"]["status"] == "unsigned"
    waived = models[three.waived.ref]
    assert any(w["stage"] == "scan" and w["reason"] == SCAN_WAIVER for w in waived["decision"]["waivers"])
    gone = models[three.retired.ref]
    assert gone["status"] == "retired" and gone["retirement"]["rationale"] == RETIRE_WHY
    assert gone["retirement"]["curator"] == "Ada Lovelace"
    table = cli("inventory").stdout
    for column in ("production", "replaced_by", "conditions", "signature"):
        assert column in table


def _report(t: Three, review_id: str, fmt: str, tmp_path: Path) -> str:
    out = tmp_path / f"{review_id}.{fmt}"
    _ok("report", review_id, "--format", fmt, "-o", str(out))
    return out.read_text(encoding="utf-8")


def _plain(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html).replace("&lt;", "<").replace("&gt;", ">").split())


def test_html_and_md_put_waivers_and_change_control_at_the_top(three: Three, tmp_path: Path) -> None:
    html = _report(three, three.waived.review_id, "html", tmp_path)
    top = _plain(html.partition("<h2>Stages</h2>")[0])
    assert SCAN_WAIVER in top and "Ada Lovelace <ada@example.org>" in top
    md = _report(three, three.waived.review_id, "md", tmp_path)
    head = md.partition("## Stages")[0]
    assert "legacy optimizer state" in head and "signed by" in head
    v2 = _plain(_report(three, three.swap_v2.review_id, "html", tmp_path).partition("<h2>Stages</h2>")[0])
    assert JUSTIFICATION in v2 and ROLLBACK_PLAN in v2 and three.swap_v1.ref in v2
    assert "not in production" in v2 and ROLLBACK_WHY in v2
    v1 = _plain(_report(three, three.swap_v1.review_id, "html", tmp_path).partition("<h2>Stages</h2>")[0])
    assert CONDITION in v1 and "in production" in v1 and three.swap_v2.ref in v1  # replaced by
    v1_md = _report(three, three.swap_v1.review_id, "md", tmp_path).partition("## Stages")[0]
    assert "Rollbacks of this name" in v1_md and "v2 answers worse" in v1_md
    gone = _plain(_report(three, three.retired.review_id, "html", tmp_path).partition("<h2>Stages</h2>")[0])
    assert "retired" in gone and RETIRE_WHY in gone


def test_json_report_carries_the_lifecycle(three: Three, tmp_path: Path) -> None:
    doc = json.loads(_report(three, three.swap_v1.review_id, "json", tmp_path))
    assert doc["conditions"] == [CONDITION]
    life = doc["lifecycle"]
    assert life["production"]["current"] is True and life["replaced_by"][0]["ref"] == three.swap_v2.ref
    assert life["rollbacks"][0]["rationale"] == ROLLBACK_WHY
    waived = json.loads(_report(three, three.waived.review_id, "json", tmp_path))
    assert waived["waivers"][0]["by"].startswith("Bob Babbage")  # the second curator published the waiver


def test_scanner_that_read_nothing_is_not_run_and_claims_agree(three: Three, tmp_path: Path) -> None:
    html = _plain(_report(three, three.swap_v1.review_id, "html", tmp_path))
    # safetensors, json and a card: modelscan's pickle readers had nothing to read
    assert "not run (no file of a format it reads)" in html
    card = html.partition("Model card and provenance")[2].partition("Evaluation")[0]
    evaluation = html.partition("Evaluation: measured vs claimed")[2]
    assert "acme-labs/tiny-mcq" in card and "the card claims no score" not in card
    assert "the card claims no score" not in evaluation and "0.2700" in evaluation
    waived = _plain(_report(three, three.waived.review_id, "html", tmp_path))  # eval errored: unchecked
    assert "unchecked: eval did not run" not in waived  # it ran (errored), so say what it made of them


def test_every_badge_class_is_styled(three: Three, tmp_path: Path) -> None:
    used: set[str] = set()
    for model in (three.waived, three.swap_v1, three.swap_v2, three.retired):
        html = _report(three, model.review_id, "html", tmp_path)
        used |= {c for attr in re.findall(r'class="([^"]+)"', html) for c in attr.split()}
    quarterly = tmp_path / "q.html"
    _ok("quarterly", "report", "-o", str(quarterly))
    used |= {
        c for attr in re.findall(r'class=["\']([^"\']+)["\']', quarterly.read_text()) for c in attr.split()
    }
    styled = set(re.findall(r"\.([a-z][a-z0-9-]*)", CSS))
    assert used - styled == set(), f"classes without a style: {sorted(used - styled)}"
    assert {"tone-ok", "tone-bad"} <= used


def test_sarif_covers_card_and_signature_with_relative_locations(three: Three, tmp_path: Path) -> None:
    import jsonschema

    from tests.export.test_sarif import sarif_schema

    log = json.loads(_report(three, three.waived.review_id, "sarif", tmp_path))
    jsonschema.Draft4Validator(sarif_schema()).validate(log)
    runs = {r["tool"]["driver"]["name"]: r for r in log["runs"]}
    assert {"curator-card", "curator-signature", "picklescan"} <= set(runs)
    for run in log["runs"]:
        assert run["originalUriBaseIds"]["MODELROOT"]["uri"].endswith("/tiny-waived/")
        for result in run["results"]:
            for loc in result.get("locations", []):
                where = loc["physicalLocation"]["artifactLocation"]
                assert where["uriBaseId"] == "MODELROOT" and not where["uri"].startswith(("/", "file:"))
    pickle_hits = [
        r
        for r in runs["picklescan"]["results"]
        if r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "optimizer.pkl"
    ]
    assert pickle_hits
    card = runs["curator-card"]["results"]
    assert card, "the card run has results (unverified provenance fields at least)"
    assert any(
        "region" in loc["physicalLocation"] and loc["physicalLocation"]["region"]["startLine"] > 1
        for r in card
        for loc in r.get("locations", [])
    )
    assert runs["curator-signature"]["results"], "an unsigned model is a signature finding"


def test_pdf_report_reads_back_with_pdftotext(three: Three, tmp_path: Path) -> None:
    need_binary("chromium", "run 'make sysdeps' (apt-get install chromium)", "chromium-browser")
    pdftotext = need_binary("pdftotext", "run 'make sysdeps' (apt-get install poppler-utils)")
    out = tmp_path / "report.pdf"
    _ok("report", three.waived.review_id, "--format", "pdf", "-o", str(out))
    assert out.read_bytes()[:5] == b"%PDF-"
    # reading order (no -layout): a table cell's words stay together
    text = subprocess.run([pdftotext, str(out), "-"], capture_output=True, text=True, check=True).stdout
    first_page = " ".join(text.split("\f")[0].split())
    assert "APPROVED" in first_page and "legacy optimizer state" in first_page, first_page[:3000]
    assert "Ada Lovelace <ada@example.org>" in first_page
    flat = " ".join(text.split())
    assert "optimizer.pkl" in flat and "critical" in flat


def test_quarterly_report_flags_and_lifecycle(three: Three, tmp_path: Path) -> None:
    md = tmp_path / "quarter.md"
    _ok("quarterly", "report", "-o", str(md))
    text = md.read_text()
    assert text.startswith("# Quarterly review")  # Markdown, from the extension
    flat = " ".join(text.split())
    assert "approved over" in flat and "critical" in flat and "optimizer.pkl" in flat
    assert "approved without a passing evaluation" in flat
    assert "rolled back" in flat and "v2 answers worse" in flat
    assert "retired on" in flat and "superseded by an in-house model" in flat
    assert "internal chat assistant only" in flat  # conditions column of the inventory section
    html = tmp_path / "quarter.html"
    _ok("quarterly", "report", "-o", str(html))
    assert html.read_text().startswith("<!DOCTYPE html>")


def test_rolled_back_revision_is_not_news(three: Three) -> None:
    from curator.inventory.build import build_inventory
    from curator.quarterly.checks import rolled_back_note

    inventory = build_inventory(three.session, three.registry)
    v1 = inventory.find(three.swap_v1.ref)
    v2 = inventory.find(three.swap_v2.ref)
    note = rolled_back_note(v1, inventory, v2.revision)
    assert three.swap_v2.ref in note and ROLLBACK_WHY in note
    assert rolled_back_note(v2, inventory, v1.revision) == ""  # v1 was never rolled back from


def test_bom_diff_lists_what_changed(three: Three, tmp_path: Path) -> None:
    new = tmp_path / "now.json"
    _ok("bom", "-o", str(new), "--validate")
    assert validate(new.read_text()) == []
    old = json.loads(new.read_text())
    # last quarter: v2 was in production, v2 not yet approved... built by editing this BOM
    models = {c["bom-ref"]: c for c in old["components"]}
    for ref in (three.swap_v2.ref,):
        old["components"].remove(models[ref])
    gone = models[three.retired.ref]
    gone["properties"] = [
        p if p["name"] != "curator:status" else {**p, "value": "approved"}
        for p in gone["properties"]
        if not p["name"].startswith("curator:retired")
    ]
    pkl = next(f for f in models[three.waived.ref]["components"] if f["name"] == "optimizer.pkl")
    pkl["properties"] = [
        p if p["name"] != "curator:scan:verdict" else {**p, "value": "clean"} for p in pkl["properties"]
    ]
    then = tmp_path / "then.json"
    then.write_text(json.dumps(old))
    diff = json.loads(_ok("bom", "--diff", str(then), "--json"))
    assert [a["ref"] for a in diff["added"]] == [three.swap_v2.ref]
    assert diff["retired"] == [
        {
            "ref": three.retired.ref,
            "by": "Ada Lovelace",
            "when": diff["retired"][0]["when"],
            "why": RETIRE_WHY,
        }
    ]
    assert diff["replaced"][0]["replaces"].startswith(three.swap_v1.ref)
    assert {"ref": three.waived.ref, "file": "optimizer.pkl", "was": "clean", "now": "blocked"} in diff[
        "verdicts_changed"
    ]
    human = cli("bom", "--diff", str(then))
    assert human.returncode == 0 and human.stdout == "" and f"retired {three.retired.ref}" in human.stderr
    bad = tmp_path / "bad.json"
    bad.write_text("{}")
    refused = cli("bom", "--diff", str(bad))
    assert refused.returncode == 2 and "not a CycloneDX BOM" in refused.stderr


@pytest.mark.parametrize("flag", ["--bom"])
def test_quarterly_writes_the_bom_and_its_diff(three: Three, tmp_path: Path, flag: str) -> None:
    first = tmp_path / "q3.json"
    _ok("bom", "-o", str(first))
    second = tmp_path / "q4.json"
    done = cli("quarterly", "--headless", "--no-upstream", flag, str(second), "--bom-since", str(first))
    assert done.returncode in (0, 1), done.stderr
    assert validate(second.read_text()) == []
    assert "no change between the two BOMs" in done.stderr
