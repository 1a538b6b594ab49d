"""Approval reports in every format, from real reviews and signed decisions in a real ledger."""

from __future__ import annotations

import json
import re
import sqlite3
from html.parser import HTMLParser
from pathlib import Path

import pytest

from curator.decision.verify import trusted_curators
from curator.export.approval import build_report
from curator.export.formats import ReportFormat, render
from tests.decision.helpers import cli
from tests.export.conftest import WAIVER_REASON, Adoptions


def _report(adopted: Adoptions, review_id: str, trusted: dict[str, object] | None = None) -> object:
    s = adopted.session
    return build_report(s, review_id, trusted_curators(s.policy) if trusted is None
                        else trusted)


class _Assets(HTMLParser):
    """Every tag and attribute that could make a browser fetch something."""

    def __init__(self) -> None:
        super().__init__()
        self.fetching: list[str] = []
        self.tags: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.add(tag)
        if tag in ("script", "link", "img", "iframe", "object", "embed", "video", "audio", "source"):
            self.fetching.append(tag)
        for name, value in attrs:
            if name in ("src", "href", "srcset", "data", "action", "poster") and value:
                self.fetching.append(f"{tag}[{name}={value}]")


def test_html_is_self_contained_and_shows_decision_then_evidence(adopted: Adoptions) -> None:
    rid = adopted.second.review_id
    text = render(_report(adopted, rid), ReportFormat.HTML)  # type: ignore[arg-type]
    assets = _Assets()
    assets.feed(text)
    assert assets.fetching == []
    assert "@import" not in text and "url(" not in text
    assert {"svg", "table", "style"} <= assets.tags
    head, _, rest = text.partition("<h2>Stages</h2>")
    # the decision and its signature status come first
    assert "APPROVED" in head and "local/tiny-two" in head and "Ada Lovelace" in head
    assert re.search(r"signature <span class=\"badge tone-ok\" data-status=\"verified\">verified</span>",
                     head)
    assert adopted.second.digest in head
    results = adopted.session.ledger.results(rid)
    for f in results["fetch"].evidence["files"]:
        assert f["sha256"] in rest and f["path"] in rest
    for scanner in ("modelscan", "picklescan", "modelaudit"):
        assert scanner in rest
    for title in ("Publisher identity", "Training data", "Training pipeline", "Eval summary", "Lineage"):
        assert title.lower() in rest.lower()
    assert "tiny-two" in rest and "local/tiny-one" in rest  # lineage names the base model
    assert "Measured vs claimed" in rest and "claimed 0.2700" in rest and "measured 0.1200" in rest
    assert WAIVER_REASON in rest
    chain = adopted.session.ledger.verify()
    assert chain.head in rest and f"{chain.rows} rows" in rest


def test_markdown_and_json_carry_the_same_facts(adopted: Adoptions) -> None:
    rid = adopted.first.review_id
    gathered = _report(adopted, rid)
    md = render(gathered, "md")  # type: ignore[arg-type]
    assert md.startswith("# APPROVED: local/tiny-one@")
    assert "signature **verified**" in md and "| eval | passed | 0 |" in md
    assert "| curator_basics | acc | 0.2700 | 0.3100 | 0.0200 | 0.2708 – 0.3492 | ok |" in md
    document = json.loads(render(gathered, "json"))  # type: ignore[arg-type]
    assert document["review_id"] == rid and document["outcome"] == "approved"
    assert document["signatures_ok"] is True and document["ledger"]["ok"] is True
    assert document["pushed"]["ref"] == adopted.first.ref
    assert document["pushed"]["digest"] == adopted.first.digest
    assert set(document["stages"]) == {"fetch", "scan", "card", "eval"}
    decision = adopted.session.ledger.events(rid, kind="decision")[0]
    assert document["decisions"][0]["ledger"] == {"seq": decision["seq"], "hash": decision["hash"]}


def test_an_untrusted_signer_is_reported_not_hidden(adopted: Adoptions) -> None:
    gathered = _report(adopted, adopted.first.review_id, trusted={})
    html = render(gathered, "html")  # type: ignore[arg-type]
    assert 'class="badge tone-bad" data-status="untrusted-key"' in html
    assert json.loads(render(gathered, "json"))["signatures_ok"] is False  # type: ignore[arg-type]


def test_an_edited_ledger_row_shows_in_the_report(adopted: Adoptions) -> None:
    rid = adopted.first.review_id
    seq = adopted.session.ledger.events(rid, kind="decision")[0]["seq"]
    db = sqlite3.connect(adopted.session.workspace.ledger_path)
    row = db.execute("SELECT payload FROM events WHERE seq = ?", (seq,)).fetchone()[0]
    edited = row.replace("fit for internal use", "anything")
    db.execute("UPDATE events SET payload = ? WHERE seq = ?", (edited, seq))
    db.commit()
    db.close()
    md = render(_report(adopted, rid), "md")  # type: ignore[arg-type]
    assert f"Chain **BROKEN (first bad row {seq}" in md


def test_report_cli_writes_each_format(adopted: Adoptions, tmp_path: Path) -> None:
    rid = adopted.second.review_id
    for fmt in ("html", "md", "json", "sarif"):
        out = tmp_path / f"report.{fmt}"
        done = cli("report", rid, "--format", fmt, "-o", str(out))
        assert done.returncode == 0, done.stderr
        assert out.stat().st_size > 500 and done.stdout == ""
    assert json.loads((tmp_path / "report.json").read_text())["review_id"] == rid
    to_stdout = cli("report", rid, "--format", "md")
    assert to_stdout.returncode == 0 and to_stdout.stdout.startswith("# APPROVED")


@pytest.mark.parametrize(("args", "message"), [
    (["nope00000000", "--format", "md"], "no review nope00000000"),
    (["{rid}", "--format", "docx"], "--format docx is not a report format"),
])
def test_report_cli_errors_are_one_line(adopted: Adoptions, args: list[str], message: str) -> None:
    done = cli("report", *[a.format(rid=adopted.first.review_id) for a in args])
    assert done.returncode == 2 and done.stdout == ""
    assert message in done.stderr and len(done.stderr.strip().splitlines()) == 1
