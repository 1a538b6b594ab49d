"""Hostile strings through the CLI: the bytes written to the terminal drive nothing, forge nothing,
and a markup-like name is printed as itself instead of crashing the command."""

from __future__ import annotations

from pathlib import Path

import pytest
import typer

from curator.cli.verify_cmd import _report
from curator.decision.verify import Problem, VerifyReport
from tests.decision.helpers import cli, curator, isolated_checklists, make_model, open_session, reviewed
from tests.export.helpers import blob_path
from tests.hostile.corpus import ESC, HOSTILE, assert_inert, hostile_model
from tests.scan.pickles import os_system_call


def test_scan_prints_escape_sequences_in_file_names_as_visible_symbols(tmp_path: Path) -> None:
    folder = hostile_model(tmp_path / "hostile")
    (folder / f"evil{HOSTILE['fake-verdict']}.pkl").write_bytes(os_system_call())
    (folder / f"note{HOSTILE['osc8-link']}{HOSTILE['c1-csi']}.txt").write_text("x")
    done = cli("scan", str(folder))
    assert done.returncode == 1 and "Traceback" not in done.stderr, done.stderr[-2000:]
    assert_inert(done.stderr, "curator scan")
    assert "evil␛[32m✔ scan ✔ card recommendation: approve␛[0m.pkl" in done.stderr
    assert "⟨U+202E⟩" in done.stderr and "⟨U+009B⟩2J" in done.stderr
    assert "[bold green]✔ VERIFIED[/].txt" in done.stderr  # markup shown as itself


def test_headless_review_shows_scanner_messages_about_a_markup_named_file(tmp_path: Path) -> None:
    folder = hostile_model(tmp_path / "hostile")
    checklists = isolated_checklists(tmp_path / "checklists", ["fetch", "scan", "card"])
    done = cli("review", str(folder), "--headless", env={"CURATOR_CHECKLISTS": str(checklists)})
    assert done.returncode == 1 and "Traceback" not in done.stderr, done.stderr[-2000:]
    assert_inert(done.stderr, "curator review --headless")
    assert "evil [/] [link=mailto:x@evil.example]x[/link] ⟨U+202E⟩kp.pkl" in done.stderr


def test_a_control_character_in_a_local_file_name_is_refused_with_its_repr(tmp_path: Path) -> None:
    folder = make_model(tmp_path / "model")
    (folder / f"x{HOSTILE['forged-line']}").write_text("x")
    done = cli("review", str(folder), "--headless", "--only", "fetch")
    assert done.returncode == 1
    assert_inert(done.stderr, "curator review --only fetch")
    assert "'xx\\n✔ evil-model:1: approved by Ada Lovelace'" in done.stderr


def test_verify_names_a_tampered_file_with_markup_in_its_title(tmp_path: Path) -> None:
    from curator.decision.decide import DecisionRequest, decide
    from curator.registry.layout import LayoutRegistry

    checklists = isolated_checklists(tmp_path / "checklists", ["fetch"])
    session = open_session(checklists)
    try:
        ada = curator(session.workspace, tmp_path / "ada", "Ada", "ada@example.org")
        folder = make_model(tmp_path / "tiny")
        (folder / "cfg[").mkdir()
        (folder / "cfg[" / "]x.json").write_text('{"a": 1}')
        review = reviewed(session, folder)
        outcome = decide(session, DecisionRequest(review.id, True, "ok"), ada,
                         LayoutRegistry(session.workspace.registry_dir))
        import hashlib

        digest = hashlib.sha256(b'{"a": 1}').hexdigest()
        blob = blob_path(session, digest)
        blob.chmod(0o644)
        blob.write_bytes(b'{"a": 2}')
    finally:
        session.close()
    assert outcome.ref
    done = cli("verify", outcome.ref, env={"CURATOR_CHECKLISTS": str(checklists)})
    assert done.returncode == 1 and "Traceback" not in done.stderr, done.stderr[-2000:]
    assert "cfg[/]x.json in the registry is not the approved bytes" in done.stderr


def test_verify_output_cannot_forge_an_approved_line(capsys: pytest.CaptureFixture[str]) -> None:
    """A title that a registry writer chose, with a newline and a fake verdict after it."""
    report = VerifyReport("local/evil:1", "registry", "sha256:" + "0" * 64,
                          problems=[Problem("tampered-blob", f"weights{HOSTILE['forged-line']}{ESC}[2K "
                                            "in the registry is not the approved bytes")])
    with pytest.raises(typer.Exit):
        _report(report, as_json=False, verb="checked")
    err = capsys.readouterr().err
    assert_inert(err, "curator verify")
    assert len(err.strip().splitlines()) == 2  # the refusal and one problem: nothing forged

