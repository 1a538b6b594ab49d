"""Fixtures shared by every test: throw-away homes, and a local hub for tests that need one."""

from __future__ import annotations

import faulthandler
import os
import sys
from collections.abc import Generator, Iterator
from pathlib import Path

import pytest

from curator.demo.hub import HubServer
from curator.demo.store import HubStore

#: A test still running after this long hangs (the slowest, the demo's walk with eval, takes
#: minutes on a loaded 2-core CI machine): the run then stops with every thread's traceback, the
#: hung test's frame among them, instead of stalling CI for ever. pytest-timeout is not in the
#: lock; the standard library's faulthandler watches from a C thread, so even a hang holding
#: the GIL is caught. CURATOR_TEST_HANG_SECONDS overrides it.
HANG_SECONDS = 1800.0
_terminal_stderr: list[int] = []


def pytest_configure(config: pytest.Config) -> None:
    # capture is suspended while pytest configures: fd 2 is the terminal's (or CI log's) stderr
    # here, whereas during a test it is a capture file that an exit would throw away
    _terminal_stderr.append(os.dup(2))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item: pytest.Item,
                            nextitem: pytest.Item | None) -> Generator[None, object, object]:
    seconds = float(os.environ.get("CURATOR_TEST_HANG_SECONDS") or HANG_SECONDS)
    faulthandler.dump_traceback_later(seconds, exit=True, file=_terminal_stderr[0])
    try:
        return (yield)
    finally:
        faulthandler.cancel_dump_traceback_later()


@pytest.fixture(autouse=True)
def _isolated_homes(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every test gets its own CURATOR_HOME and HF_HOME; no token or telemetry leaks in or out."""
    home = tmp_path_factory.mktemp("home")
    hf = home / "hf"
    monkeypatch.setenv("CURATOR_HOME", str(home / "curator"))
    monkeypatch.setenv("HF_HOME", str(hf))
    monkeypatch.setenv("HF_HUB_DISABLE_TELEMETRY", "1")
    monkeypatch.delenv("HF_TOKEN", raising=False)
    # a developer's team ledger or registry must never receive test writes
    for name in ("CURATOR_LEDGER_URL", "CURATOR_REGISTRY", "CURATOR_CHECKLISTS", "HF_ENDPOINT"):
        monkeypatch.delenv(name, raising=False)
    # huggingface_hub reads these once, at import: re-point a copy imported by an earlier test
    constants = sys.modules.get("huggingface_hub.constants")
    if constants is not None:
        for name, value in {"HF_HOME": str(hf), "HF_HUB_CACHE": str(hf / "hub"),
                            "HF_ASSETS_CACHE": str(hf / "assets"), "HF_TOKEN_PATH": str(hf / "token"),
                            "HF_STORED_TOKENS_PATH": str(hf / "stored_tokens"),
                            "HF_HUB_DISABLE_TELEMETRY": True}.items():
            if hasattr(constants, name):
                monkeypatch.setattr(constants, name, value)


@pytest.fixture
def hub_store(tmp_path: Path) -> HubStore:
    """An empty HubStore in the test's temp folder: ``publish`` repos into it."""
    return HubStore(tmp_path / "hub")


@pytest.fixture
def hub(hub_store: HubStore) -> Iterator[HubServer]:
    """A started HubServer over ``hub_store`` on 127.0.0.1 (free ports), stopped afterwards.

    Pass ``endpoint=hub.url`` to huggingface_hub; change ``hub.faults`` / ``hub.page_size`` /
    ``hub.tokens`` at will; ``hub.requests`` lists what was asked.
    """
    with HubServer(hub_store) as server:
        yield server
