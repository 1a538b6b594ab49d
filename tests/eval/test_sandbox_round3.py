"""Round three against the eval sandbox: the child's writable folders (its scratch and the
model's request cache) sit on the host's disk, outside the tmpfs sizes and the memory guard.
Before the fix a child could fill the disk the workspace lives on."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.eval.test_sandbox_round2 import attack, review  # noqa: F401 - the fixture

DISK_MB = 16


def test_one_file_in_the_scratch_folder_cannot_outgrow_the_disk_cap(
        review: dict[str, Path], monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: F811
    target = str(review["eval"] / "scratch" / "fill")
    _, report = attack(review, monkeypatch, {"fill": {target: DISK_MB + 8}}, max_disk_mb=DISK_MB)
    assert report[f"fill:{target}"].startswith(f"refused after {DISK_MB} MB"), report
    assert "EFBIG" in report[f"fill:{target}"]


def test_many_files_past_the_disk_cap_stop_the_child(
        review: dict[str, Path], monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: F811
    spray = {"folder": str(review["eval"] / "scratch"), "files": DISK_MB + 8, "hold_seconds": 60}
    result, _ = attack(review, monkeypatch, {"spray": spray}, max_disk_mb=DISK_MB, timeout_seconds=600)
    assert result.status.value == "errored"
    message = result.evidence["child"]["message"]
    assert "eval.max_disk_mb" in message and "wall-clock" not in message, message
    assert result.evidence["child"]["seconds"] < 30
