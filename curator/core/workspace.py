"""The curator workspace: ledger, registry, reviews, keys and caches under one home."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from curator.core.errors import UsageError

HOME_ENV = "CURATOR_HOME"


def default_home() -> Path:
    """``$CURATOR_HOME`` if set, else the platform's user data dir."""
    env = os.environ.get(HOME_ENV)
    if env:
        return Path(env).expanduser()
    import platformdirs

    return Path(platformdirs.user_data_dir("curator", appauthor=False))


@dataclass(frozen=True)
class Workspace:
    home: Path

    @classmethod
    def open(cls, home: Path | str | None = None) -> Workspace:
        """Open (creating if needed) the workspace at ``home`` or the default one."""
        root = Path(home).expanduser() if home else default_home()
        try:
            root.mkdir(parents=True, exist_ok=True)
            for sub in ("reviews", "registry", "keys", "cache"):
                (root / sub).mkdir(exist_ok=True)
            (root / "keys").chmod(0o700)
        except OSError as exc:
            raise UsageError(
                f"cannot use {root} as the curator workspace ({exc.strerror})",
                f"pass --home DIR or set {HOME_ENV} to a writable folder",
            ) from exc
        return cls(root)

    @property
    def ledger_path(self) -> Path:
        return self.home / "ledger.db"

    @property
    def registry_dir(self) -> Path:
        return self.home / "registry"

    @property
    def keys_dir(self) -> Path:
        return self.home / "keys"

    @property
    def cache_dir(self) -> Path:
        return self.home / "cache"

    def review_dir(self, review_id: str) -> Path:
        path = self.home / "reviews" / review_id
        path.mkdir(parents=True, exist_ok=True)
        return path
