"""Stages, looked up by name; each module is imported only when its stage is used."""

from __future__ import annotations

import importlib

from curator.core.errors import UsageError
from curator.core.stage import Stage

#: stage name -> "module:Class"; heavy imports stay inside each module's run()
STAGES: dict[str, str] = {
    "fetch": "curator.stages.fetch:FetchStage",
    "scan": "curator.stages.scan:ScanStage",
    "signature": "curator.stages.signature:SignatureStage",
    "card": "curator.stages.card:CardStage",
    "eval": "curator.stages.eval:EvalStage",
}


def build_stages(names: list[str], unsandboxed: bool = False) -> list[Stage]:
    """Instantiate stages by name, in the order given.

    ``unsandboxed``: the curator's --unsandboxed, for the eval stage only.
    """
    stages = []
    for name in names:
        if name not in STAGES:
            raise UsageError(f"unknown stage '{name}'", f"choose from {', '.join(STAGES)}")
        module, cls = STAGES[name].split(":")
        options = {"unsandboxed": True} if name == "eval" and unsandboxed else {}
        stages.append(getattr(importlib.import_module(module), cls)(**options))
    return stages
