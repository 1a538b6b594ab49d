"""Custom code in a candidate: every .py file, auto_map entries and unknown tokenizer classes are
high findings with a static summary; the code is never imported; approval needs a waiver that
names each file reviewed."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from curator.core.errors import DecisionRefused
from curator.core.models import Severity, Status
from curator.decision.decide import DecisionRequest, assess, decide
from curator.review.session import Session
from curator.stages.scan.checks.custom_code import config_findings, known_class, summarize_python
from tests.changes.helpers import checklists, revision
from tests.decision.helpers import curator, open_session, reviewed

BLOB = "aW1wb3J0IG9zCm9zLnN5c3RlbSgidHJ1ZSIpCg" * 8  # base64 of harmless code, 304 chars


def evil_repo(folder: Path, marker: Path) -> Path:
    """A clean model plus modeling_evil.py (which would write ``marker`` if it were ever imported)."""
    revision(folder, 0, "apache-2.0")
    config = json.loads((folder / "config.json").read_text())
    config["auto_map"] = {"AutoModelForCausalLM": "modeling_evil.EvilModel"}
    (folder / "config.json").write_text(json.dumps(config))
    (folder / "modeling_evil.py").write_text(
        "import os\nimport socket\nimport subprocess\nfrom pathlib import Path\n"
        f"Path({str(marker)!r}).write_text('imported')\n"
        "os.system('true')\n"
        f"PAYLOAD = {BLOB!r}\n"
        "exec(compile('print(1)', 'x', 'exec'))\n"
        "class EvilModel:\n    pass\n")
    return folder


@pytest.fixture
def session(tmp_path: Path) -> Iterator[Session]:
    s = open_session(checklists(tmp_path / "checklists", ["fetch", "scan"]))
    yield s
    s.close()


def test_modeling_file_and_auto_map_are_flagged_and_never_imported(session: Session, tmp_path: Path) -> None:
    marker = tmp_path / "IMPORTED"
    model = evil_repo(tmp_path / "evil", marker)
    review = reviewed(session, model)
    scan = session.ledger.results(review.id)["scan"]

    assert scan.status == Status.FAILED
    code = {f.file: f for f in scan.findings if f.code == "custom-code"}
    assert set(code) == {"modeling_evil.py"} and code["modeling_evil.py"].severity == Severity.HIGH
    message = code["modeling_evil.py"].message
    assert "trust_remote_code=True runs this code" in message
    assert "network: socket" in message and "subprocess" in message and "os.system" in message
    assert "exec" in message and "base64 blob of 304 chars" in message
    mapped = [f for f in scan.findings if f.code == "custom-code-auto-map"]
    assert mapped and mapped[0].file == "config.json" and "modeling_evil.py" in mapped[0].message
    info = scan.evidence["custom_code"]
    assert info["files_to_review"] == ["modeling_evil.py"] and info["status_without"] == "passed"
    # read as text only: never imported here, nor by any scanner child process
    assert "modeling_evil" not in sys.modules and not marker.exists()


def test_approval_needs_a_waiver_naming_the_files(session: Session, tmp_path: Path) -> None:
    model = evil_repo(tmp_path / "evil", tmp_path / "IMPORTED")
    review = reviewed(session, model)
    ada = curator(session.workspace, tmp_path / "ada", "Ada", "ada@example.org")
    blockers = assess(session, review.id).blockers
    # the scan fails only because of custom code, so custom code is the one blocker
    assert [(b.stage, b.files) for b in blockers] == [("custom-code", ("modeling_evil.py",))]
    with pytest.raises(DecisionRefused, match="custom-code"):
        decide(session, DecisionRequest(review.id, True, "ok"), ada)
    with pytest.raises(DecisionRefused, match=r"does not name modeling_evil\.py"):
        decide(session, DecisionRequest(review.id, True, "ok", {"custom-code": "looked at the code"}), ada)
    reason = "reviewed modeling_evil.py: only defines the architecture"
    outcome = decide(session, DecisionRequest(review.id, True, "ok", {"custom-code": reason}), ada)
    assert outcome.outcome == "approved"
    signed = session.ledger.events(review.id, kind="decision")[-1]["payload"]["waivers"]
    assert [(w["stage"], w["reason"]) for w in signed] == [("custom-code", reason)]


def test_custom_code_does_not_hide_a_real_scan_failure(session: Session, tmp_path: Path) -> None:
    model = evil_repo(tmp_path / "evil", tmp_path / "IMPORTED")
    # a pickle that imports os.system: written byte by byte, never loaded
    (model / "weights.bin").write_bytes(b"\x80\x04\x95\x11\x00\x00\x00\x00\x00\x00\x00\x8c\x02os\x94\x8c"
                                        b"\x06system\x94\x93\x94.")
    review = reviewed(session, model)
    stages = {b.stage for b in assess(session, review.id).blockers}
    assert stages == {"scan", "custom-code"}


def test_configs_that_point_at_code_elsewhere(tmp_path: Path) -> None:
    (tmp_path / "tokenization_evil.py").write_text("class EvilTokenizer: pass\n")
    doc = {"tokenizer_class": "EvilTokenizer", "processor_class": "CLIPProcessor",
           "auto_map": {"AutoTokenizer": ["tokenization_evil.EvilTokenizer", None],
                        "AutoModel": "someone/else--modeling_x.X"}}
    findings, facts = config_findings(doc, "tokenizer_config.json", tmp_path)
    codes = sorted(f.code for f in findings)
    assert codes == ["custom-code-auto-map", "custom-code-auto-map", "custom-code-class"]
    remote = next(r for r in facts["references"] if r["remote_repo"])
    assert remote["remote_repo"] == "someone/else" and not remote["present"]
    assert next(r for r in facts["references"] if not r["remote_repo"])["present"]
    assert facts["unknown_classes"] == [{"key": "tokenizer_class", "class": "EvilTokenizer"}]
    assert known_class("GPT2Tokenizer") and known_class("GPT2TokenizerFast")
    assert not known_class("EvilTokenizer")
    plain = {"model_type": "gpt2", "tokenizer_class": "GPT2TokenizerFast"}
    assert config_findings(plain, "tokenizer_config.json", None) == ([], {})


def test_static_summary() -> None:
    quiet = summarize_python("import torch\nimport math\n\nclass Block(torch.nn.Module):\n    pass\n")
    assert quiet["imports"] == {"network": [], "process": [], "filesystem": []}
    assert quiet["dynamic"] == [] and quiet["blobs"] == []
    loud = summarize_python(f"import base64, urllib.request\nX = base64.b64decode({BLOB!r})\neval('1')\n")
    assert loud["imports"]["network"] == ["urllib.request"]
    assert {d["call"] for d in loud["dynamic"]} == {"base64.b64decode", "eval"}
    assert loud["blobs"] == [{"kind": "base64", "chars": len(BLOB), "line": 2}]
    broken = summarize_python("def f(:\n")
    assert broken["parse_error"] and broken["imports"]["network"] == []
