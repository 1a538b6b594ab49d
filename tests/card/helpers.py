"""Helpers for card tests: the test cards, and reading a card result."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from curator.core.models import StageResult

CARDS = Path(__file__).parent / "cards"


def card_text(name: str) -> str:
    return (CARDS / name).read_text(encoding="utf-8")


def codes(result: StageResult) -> list[str]:
    return [f.code for f in result.findings]


def field(result: StageResult, name: str) -> dict[str, Any]:
    grade: dict[str, Any] = result.evidence["fields"][name]
    return grade


def locations(result: StageResult, name: str) -> list[str]:
    return [e["location"] for e in field(result, name)["evidence"]]
