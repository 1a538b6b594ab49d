"""External scanners behind one interface (``base.Scanner``); each runs in its own child process."""

from __future__ import annotations

from curator.stages.scan.adapters.base import Scanner, ScannerRun, TargetOutcome
from curator.stages.scan.adapters.modelaudit import ModelAudit
from curator.stages.scan.adapters.modelscan import ModelScan
from curator.stages.scan.adapters.picklescan import PickleScan
from curator.stages.scan.config import ScanConfig

SCANNERS: dict[str, type[Scanner]] = {"modelscan": ModelScan, "picklescan": PickleScan,
                                      "modelaudit": ModelAudit}

__all__ = ["SCANNERS", "Scanner", "ScannerRun", "TargetOutcome", "build_scanners"]


def build_scanners(config: ScanConfig) -> list[Scanner]:
    """The scanners the policy turns on, in the policy's order."""
    return [SCANNERS[name](config) for name in config.scanners]
