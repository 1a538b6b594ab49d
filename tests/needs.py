"""Real components a test needs: under CI a missing one fails the run, elsewhere it skips.

CI (``CI=true``, which ``.ci/run`` gets) must never pass by skipping what it was meant to test;
a developer's machine without, say, Chromium may skip with the reason shown (``-ra``).
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import shutil
from types import ModuleType
from typing import NoReturn

import pytest

SYSDEPS = "run 'make sysdeps'"


def under_ci() -> bool:
    """True when the run is CI's: a missing component is then a failure, never a skip."""
    return os.environ.get("CI", "").strip().lower() in {"1", "true", "yes"}


def missing(what: str, install: str) -> NoReturn:
    """``what`` is not here: fail under CI, skip elsewhere; ``install`` says how to get it."""
    message = f"{what} is missing: {install}"
    if under_ci():
        pytest.fail(f"{message} (CI never skips a real component)", pytrace=False)
    pytest.skip(message)


def need_binary(name: str, install: str = SYSDEPS, *alternatives: str) -> str:
    """The path of program ``name`` (or the first of ``alternatives``) on PATH."""
    for candidate in (name, *alternatives):
        path = shutil.which(candidate)
        if path:
            return path
    missing(f"the program {name!r}", install)


def need_module(name: str, install: str = "run 'make install'") -> ModuleType:
    """Import ``name``; a missing module is reported like a missing program."""
    if importlib.util.find_spec(name.split(".")[0]) is None:
        missing(f"the Python module {name!r}", install)
    return importlib.import_module(name)
