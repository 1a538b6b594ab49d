"""curator's command line: thin commands over the domain, one error path.

Each command module registers itself on ``curator.cli.app.app`` when imported.
"""

from __future__ import annotations

import sys

# command modules: importing them registers their commands (keep their imports light)
from curator.cli import (  # noqa: F401
    bom_cmd,
    card_cmd,
    decide_cmd,
    demo_cmd,
    diff_cmd,
    eval_cmd,
    hub_cmd,
    inventory_cmd,
    keys_cmd,
    ledger_cmd,
    policy_cmd,
    quarterly_cmd,
    report_cmd,
    review_cmd,
    rollback_cmd,
    scan_cmd,
    signature_cmd,
    state_cmd,
    trust_cmd,
    verify_cmd,
)
from curator.cli.app import app
from curator.core.errors import CuratorError


def main() -> None:
    """Entry point: run the app; a CuratorError becomes one line on stderr and its exit code."""
    try:
        code = app(standalone_mode=False)
    except CuratorError as exc:
        from curator.core.text import shown

        # an error may quote a file name or a server's answer: one line, nothing the terminal obeys
        print(f"curator: error: {shown(exc.diagnostics())}", file=sys.stderr)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        print("curator: interrupted; finished stages are kept, run the same command to resume",
              file=sys.stderr)
        sys.exit(130)
    except SystemExit:
        raise
    except Exception as exc:  # typer's (vendored click's) usage errors arrive here in non-standalone mode
        import typer

        if isinstance(exc, typer.Abort):
            sys.exit(130)
        show = getattr(exc, "show", None)
        if isinstance(exc, typer.exceptions.TyperException) and callable(show):
            show()
            sys.exit(2)
        raise
    sys.exit(code if isinstance(code, int) else 0)
