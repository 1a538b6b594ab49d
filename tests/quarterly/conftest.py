"""The export tests' workspace (two adopted models, the second derived from the first)."""

from __future__ import annotations

from tests.export.conftest import adopted

__all__ = ["adopted"]
