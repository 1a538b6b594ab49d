"""`curator diff` for people: card and scan findings that changed, scores as '0.76 ± 0.04',
and never a bare None."""

from __future__ import annotations

from curator.changes.diff import Side, diff
from curator.cli.diff_cmd import diff_lines
from curator.core.models import Finding, Severity, StageResult, Status


def _side(label: str, card: list[Finding], scan: list[Finding], license_id: str | None,
          scores: dict[str, object]) -> Side:
    results = {
        "card": StageResult("card", Status.WARNED, tuple(card),
                            {"license": {"id": license_id, "verdict": "allowed"} if license_id else None,
                             "fields": {"intended_use": {"status": "present"}} if license_id else {},
                             "claims": [{"dataset": "arc", "metric": "acc", "value": 0.61}]}),
        "scan": StageResult("scan", Status.PASSED, tuple(scan), {"files": [], "scanners": {}}),
        "eval": StageResult("eval", Status.PASSED, (), {"results": {"basics": scores}}),
    }
    return Side(label, "acme/tiny", label, [], results)


def test_findings_that_changed_are_listed_and_numbers_are_formatted() -> None:
    gone = Finding(Severity.MEDIUM, "card-missing-field", "the card has no limitations section")
    kept = Finding(Severity.LOW, "card-short", "the card is short")
    new_scan = Finding(Severity.HIGH, "pickle-global", "evil.pkl imports [bold]os.system[/]", file="evil.pkl")
    a = _side("v1", [gone, kept], [], None, {"acc": 0.7612, "acc_stderr": 0.0421, "f1": 0.5})
    b = _side("v2", [kept], [new_scan], "apache-2.0", {"acc": 0.8, "acc_stderr": "N/A"})
    doc = diff(a, b)
    assert [f["code"] for f in doc["card"]["findings"]["removed"]] == ["card-missing-field"]
    assert doc["card"]["findings"]["added"] == []
    assert [f["file"] for f in doc["scan"]["findings"]["added"]] == ["evil.pkl"]
    text = "\n".join(diff_lines(doc))
    assert "None" not in text, text
    assert "license changed: none → apache-2.0 (allowed)" in text
    assert "eval basics acc: 0.76 ± 0.04 → 0.80 (+0.039)" in text
    assert "eval basics f1: 0.50 → —" in text
    assert "card intended_use: — → present" in text
    assert "[green]- card medium[/] the card has no limitations section" in text
    assert "the card is short" not in text  # on both sides: not a change
    assert "[red]+ scan high[/] evil.pkl imports \\[bold]os.system\\[/]" in text  # data, never markup
