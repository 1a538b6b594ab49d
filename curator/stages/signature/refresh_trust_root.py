"""Rebuild or check curator's offline Sigstore trust root (checklists/sigstore-trust-config.json).

    python -m curator.stages.signature.refresh_trust_root            # from the installed sigstore
    python -m curator.stages.signature.refresh_trust_root --from DIR # from newer TUF targets
    python -m curator.stages.signature.refresh_trust_root --check    # exit 1 if out of date

To update on an air-gapped machine: on an online one, run ``sigstore`` once (it refreshes
its TUF cache) or ``pip install -U sigstore``; copy ``trusted_root.json`` and
``signing_config.v0.2.json`` over and pass their folder with ``--from``.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from curator.core.errors import UsageError
from curator.core.policy import checklists_dir
from curator.stages.signature.trust_config import (
    TRUST_CONFIG_FILE,
    build_trust_config,
    summary,
    write_trust_config,
)


def main(argv: list[str] | None = None) -> int:
    """Rebuild (or, with ``--check``, compare) the shipped trust config; returns the exit code."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--from", dest="source", type=Path, default=None,
                        help="folder with trusted_root.json and signing_config.v0.2.json "
                             "(default: the installed sigstore package's public-good copy)")
    parser.add_argument("--output", type=Path, default=checklists_dir() / TRUST_CONFIG_FILE)
    parser.add_argument("--check", action="store_true",
                        help="exit 1 if the file differs from what would be built")
    args = parser.parse_args(argv)
    try:
        if args.check:
            fresh = build_trust_config(args.source)
            current = json.loads(args.output.read_text(encoding="utf-8")) if args.output.exists() else None
            same = current == fresh
            print(f"{args.output}: {'up to date' if same else 'differs from the source'}", file=sys.stderr)
            return 0 if same else 1
        document = write_trust_config(args.output, args.source)
    except UsageError as exc:
        print(f"curator: error: {exc.diagnostics()}", file=sys.stderr)
        return 2
    print(f"wrote {args.output}\n{summary(document)}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
