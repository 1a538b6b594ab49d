"""Domain code never pulls in the UI or heavy libraries; `curator --help` stays light."""

from __future__ import annotations

import json
import subprocess
import sys

HEAVY = ("textual", "torch", "transformers", "lm_eval", "modelscan", "modelaudit", "model_signing")


def _modules_after(code: str) -> set[str]:
    out = subprocess.run([sys.executable, "-c", code + "\nimport sys, json\n"
                          "print(json.dumps(sorted(sys.modules)))"],
                         capture_output=True, text=True, check=True).stdout
    return set(json.loads(out.splitlines()[-1]))


def test_domain_packages_never_import_textual() -> None:
    loaded = _modules_after(
        "import curator.core.pipeline, curator.core.policy, curator.ledger, curator.review.session, "
        "curator.stages, curator.stages.fetch")
    assert not {m for m in loaded if m.split(".")[0] == "textual"}


def test_cli_help_imports_nothing_heavy() -> None:
    loaded = _modules_after(
        "import sys\nsys.argv = ['curator', '--help']\nfrom curator.cli import main\n"
        "try:\n    main()\nexcept SystemExit:\n    pass")
    assert not {m for m in loaded if m.split(".")[0] in HEAVY}
