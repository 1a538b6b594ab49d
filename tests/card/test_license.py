"""License: the declared id against checklists/licenses.yaml, and everything that disagrees."""

from __future__ import annotations

import pytest

from curator.core.models import Severity, Status
from tests.card.conftest import Grader
from tests.card.helpers import codes

BODY = "# m\n\n## Training data\n\nTwo thousand annotated support tickets from our help desk.\n"


@pytest.mark.parametrize(("license_", "verdict", "code", "status"), [
    ("apache-2.0", "allowed", None, Status.WARNED),  # warned only for having 1 field
    ("MIT", "allowed", None, Status.WARNED),
    ("llama3.1", "needs-legal", "license-needs-legal", Status.WARNED),
    ("openrail++", "needs-legal", "license-needs-legal", Status.WARNED),
    ("some-new-license", "needs-legal", "license-needs-legal", Status.WARNED),  # unlisted
    ("cc-by-nc-4.0", "denied", "license-denied", Status.FAILED),
])
def test_verdicts(grade: Grader, license_: str, verdict: str, code: str | None,
                  status: Status) -> None:
    result = grade(f"---\nlicense: {license_}\n---\n{BODY}")
    report = result.evidence["license"]
    assert (report["id"], report["verdict"]) == (license_.lower(), verdict)
    assert report["location"] == "license" and report["line"] == 2
    assert codes(result) == ([code] if code else [])
    assert result.status == status


def test_missing_license_is_a_high_finding(grade: Grader) -> None:
    result = grade(BODY)
    assert result.evidence["license"]["verdict"] == "missing"
    (finding,) = result.findings
    assert finding.code == "license-missing" and finding.severity == Severity.HIGH
    assert result.status == Status.FAILED


def test_other_with_name_and_link(grade: Grader) -> None:
    result = grade("---\nlicense: other\nlicense_name: acme-community\n"
                   "license_link: https://acme.example/license\n---\n" + BODY)
    report = result.evidence["license"]
    assert report["verdict"] == "needs-legal" and report["id"] == "other"
    assert report["link"] == "https://acme.example/license" and report["name"] == "acme-community"
    assert "https://acme.example/license" in result.findings[0].message


def test_other_without_terms_points_at_the_license_file_or_asks(grade: Grader) -> None:
    bare = grade("---\nlicense: other\n---\n" + BODY)
    assert "license-other-undocumented" in codes(bare)
    with_file = grade("---\nlicense: other\n---\n" + BODY, files={"LICENSE": b"terms"})
    assert with_file.evidence["license"]["link"] == "file:LICENSE"
    assert "license-other-undocumented" not in codes(with_file)


def test_prose_that_contradicts_the_metadata(grade: Grader) -> None:
    result = grade("---\nlicense: mit\n---\n# m\n\n- **License:** CC BY-NC 4.0\n")
    report = result.evidence["license"]
    assert report["id"] == "mit" and report["verdict"] == "denied", "the strictest counts"
    assert [d["id"] for d in report["declared"]] == ["mit", "cc-by-nc-4.0"]
    assert report["declared"][1]["location"] == "m > License"
    assert {"license-conflict", "license-denied"} <= set(codes(result))


def test_license_list_and_license_section(grade: Grader) -> None:
    result = grade("---\nlicense: [apache-2.0, gpl-3.0]\n---\n# m\n\n## License\n\nApache 2.0\n")
    report = result.evidence["license"]
    assert report["location"] == "license[0]" and report["verdict"] == "needs-legal"
    assert [(d["id"], d["location"]) for d in report["declared"]] == [
        ("apache-2.0", "license[0]"), ("gpl-3.0", "license[1]"), ("apache-2.0", "m > License")]


def test_license_severity_comes_from_policy(grade: Grader, checklists) -> None:  # type: ignore[no-untyped-def]
    import yaml

    from curator.core.policy import Policy

    path = checklists / "default.yaml"
    data = yaml.safe_load(path.read_text())
    data["card"]["license"] = {"missing": "low", "needs-legal": "high"}
    path.write_text(yaml.safe_dump(data))
    policy = Policy.load(checklists)
    assert grade(BODY, policy=policy).findings[0].severity == Severity.LOW
    needs_legal = grade("---\nlicense: llama2\n---\n" + BODY, policy=policy)
    assert needs_legal.status == Status.FAILED
