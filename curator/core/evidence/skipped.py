"""Why a stage was skipped: the one evidence key every stage may write (``Stage.skipped``)."""

from __future__ import annotations

from curator.core.evidence.fields import Fields
from curator.core.models import StageResult


def skip_reason(result: StageResult | None) -> str:
    """The reason a result records for not running ("" when it records none)."""
    if result is None:
        return ""
    return Fields(result.evidence, result.stage).text("reason")
