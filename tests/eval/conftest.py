"""Session fixtures for the eval tests: the tiny model and tasks are built once."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

import pytest

from tests.eval.helpers import build_tiny_gpt2, direct_lm_eval, write_mc_task
from tests.needs import missing


@pytest.fixture(autouse=True)
def _lm_eval_installed() -> None:
    """Every eval test needs the eval extra: without it each one fails under CI, or skips."""
    if importlib.util.find_spec("lm_eval") is None:
        missing("lm-eval (the eval extra)", "run 'make install'")


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A random 2-layer GPT-2 folder (config, safetensors, tokenizer); never modify it."""
    return build_tiny_gpt2(tmp_path_factory.mktemp("models") / "tiny-gpt2")


@pytest.fixture(scope="session")
def small_task(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 40-question multiple-choice task YAML with its data beside it."""
    return write_mc_task(tmp_path_factory.mktemp("tasks"), "tiny_mc", docs=40)


@pytest.fixture(scope="session")
def long_task(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Enough requests (800, long prompts) that a run at batch size 1 is still going when cancelled."""
    return write_mc_task(tmp_path_factory.mktemp("long"), "long_mc", docs=200, words=40)


@pytest.fixture(scope="session")
def direct_small(tiny_model: Path, small_task: Path,
                 tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """lm-eval's own results for ``tiny_model`` on ``small_task``, called directly."""
    return direct_lm_eval(tiny_model, small_task, tmp_path_factory.mktemp("hf-direct"))
