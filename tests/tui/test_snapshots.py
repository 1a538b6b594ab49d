"""SVG snapshots of the queue, a finished fetch and the error modal (pytest-textual-snapshot).

Everything volatile is pinned: the policy (a frozen copy, so new team stages don't shift the
picture), the candidates (their own fixed bytes, not the demo samples), the hub's port, the
review id and the workspace path in the header.
Update after an intended change with ``pytest tests/tui --snapshot-update`` and look at the SVGs.
"""

from __future__ import annotations

import errno
import shutil
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from textual.pilot import Pilot

from curator.core.models import Candidate
from curator.core.policy import checklists_dir
from curator.core.workspace import Workspace
from curator.demo.hub import HubServer
from curator.ledger import sqlite as ledger_sqlite
from curator.tui.app import make_app
from curator.tui.items import QueueItem
from curator.tui.screens.error import ErrorScreen
from curator.tui.screens.queue import QueueScreen
from tests.needs import missing
from tests.tui.support import laid_out, run_and_wait, wait_until

SIZE = (120, 36)
#: outside Linux's ephemeral range, so a test's own connections never hold it
SNAPSHOT_PORT = 28417
HEADER = "workspace ~/curator"
POLICY = """version: "snapshot"
stages: [fetch, signature, card]
fetch: {max_file_bytes: 68719476736, parallel_files: 4, retries: 4, timeout_seconds: 30}
"""


@pytest.fixture
def frozen(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A fixed policy and review ids 000000000001, 000000000002, ... in order."""
    checklists = tmp_path / "checklists"
    shutil.copytree(checklists_dir(), checklists)
    (checklists / "default.yaml").write_text(POLICY)
    monkeypatch.setenv("CURATOR_CHECKLISTS", str(checklists))
    counter = iter(range(1, 1000))
    # only the ledger's view of uuid changes: the HTTP client keeps its random request ids
    monkeypatch.setattr(ledger_sqlite, "uuid", SimpleNamespace(
        uuid4=lambda: uuid.UUID(int=next(counter) << 80)))


#: the snapshots' own candidates: fixed bytes, so changes to the demo samples don't move them
REPOS: dict[str, tuple[str, dict[str, bytes]]] = {
    "acme-labs/tiny-model": ("A small GPT-2 in safetensors with a complete card", {
        "config.json": b'{"model_type": "gpt2", "n_layer": 2}\n',
        "model.safetensors": bytes(range(256)) * 1024,
        "README.md": b"---\nlicense: apache-2.0\n---\n# tiny-model\n",
        "tokenizer/vocab.json": b'{"a": 0, "b": 1}\n',
    }),
    "acme-labs/tiny-model-legacy": ("The same model as a legacy pytorch_model.bin", {
        "config.json": b'{"model_type": "gpt2", "n_layer": 2}\n',
        "pytorch_model.bin": bytes(range(255, -1, -1)) * 512,
    }),
    "someone/tiny-finetune": ("A community fine-tune with a thin card", {
        "model.safetensors": bytes(range(0, 256, 2)) * 2048,
        "README.md": b"# fine-tune\n",
    }),
}


@pytest.fixture
def fixed_hub(hub_store: Any) -> Iterator[HubServer]:
    """The snapshots' repos on a hub at a fixed port: its URL is on screen."""
    for repo_id, (_, files) in REPOS.items():
        hub_store.publish(repo_id, files, message="Upload")
    deadline = time.monotonic() + 20
    while True:
        try:
            server = HubServer(hub_store, port=SNAPSHOT_PORT).start()
            break
        except OSError as exc:
            if exc.errno != errno.EADDRINUSE:
                raise
            if time.monotonic() > deadline:  # the URL is on screen: no other port will do
                missing(f"a free port {SNAPSHOT_PORT} for the snapshot hub (busy for 20 s)",
                        "stop whatever listens on it")
            time.sleep(0.5)
    with server:
        yield server


def masked(steps: Callable[[Pilot[Any]], Any] | None = None) -> Callable[[Pilot[Any]], Any]:
    """Run ``steps``, then hide the workspace path (a temp dir) and any toast."""
    async def run_before(pilot: Pilot[Any]) -> None:
        await pilot.pause()  # run_before starts before the first screen has finished mounting
        queue = pilot.app.screen_stack[0]  # the app's first screen; a worker reads its rows
        assert isinstance(queue, QueueScreen)
        await wait_until(pilot, lambda: queue.reads > 0, what="the queue's rows")
        if steps is not None:
            await steps(pilot)
        await wait_until(pilot, lambda: laid_out(pilot.app.screen), what="the tables' column widths")
        pilot.app.sub_title = HEADER
        pilot.app.clear_notifications()
    return run_before


def fixed_queue(server: HubServer) -> list[QueueItem]:
    return [QueueItem(Candidate(repo_id, "main", "hub", endpoint=server.url), description)
            for repo_id, (description, _) in REPOS.items()]


def test_queue(snap_compare: Any, frozen: None, fixed_hub: HubServer, workspace: Workspace) -> None:
    app = make_app(workspace, queue=fixed_queue(fixed_hub))
    assert snap_compare(app, terminal_size=SIZE, run_before=masked())


def test_review_after_fetch(snap_compare: Any, frozen: None, fixed_hub: HubServer,
                            workspace: Workspace) -> None:
    app = make_app(workspace, queue=fixed_queue(fixed_hub))

    async def fetch_first_candidate(pilot: Pilot[Any]) -> None:
        await pilot.press("enter")
        screen = await run_and_wait(pilot, "f")
        assert screen.review is not None and screen.review.id == "000000000001"
        # the picture holds the highlighted file's detail, which the table's highlight message fills
        detail = screen.query_one("#file-detail")
        await wait_until(pilot, lambda: str(detail.render()).startswith("README.md"), what="the file detail")

    assert snap_compare(app, terminal_size=SIZE, run_before=masked(fetch_first_candidate))


def test_error_modal_for_an_unknown_repo(snap_compare: Any, frozen: None, fixed_hub: HubServer,
                                         workspace: Workspace) -> None:
    missing = Candidate("acme-labs/no-such-model", "main", "hub", endpoint=fixed_hub.url)
    app = make_app(workspace, candidate=missing)

    async def wait_for_modal(pilot: Pilot[Any]) -> None:
        await wait_until(pilot, lambda: isinstance(pilot.app.screen, ErrorScreen), what="the modal")

    assert snap_compare(app, terminal_size=SIZE, run_before=masked(wait_for_modal))

