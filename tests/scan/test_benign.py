"""Every benign sample — realistic files of every format a model repo carries — must come out clean."""

from __future__ import annotations

from typing import Any

import pytest

from tests.scan import corpus
from tests.scan.conftest import verdict_of

BENIGN = ["torch_state_dict", "torch_fp16_bf16", "torch_whole_module", "hf_training_args", "torch_legacy",
          "numpy_npy", "numpy_npz", "sklearn_joblib", "sklearn_joblib_compressed", "sklearn_random_forest",
          "keras_h5", "keras_v3", "gguf_chat_template", "safetensors", "json_config.json",
          "json_generation_config.json", "json_special_tokens_map.json", "json_tokenizer.json",
          "json_tokenizer_config.json", "chat_template_jinja", "readme", "gitattributes", "sentencepiece",
          "onnx_inline", "onnx_external", "onnx_external_data"]


def test_benign_list_covers_the_corpus(samples: dict[str, corpus.Sample]) -> None:
    assert sorted(BENIGN) == sorted(n for n, s in samples.items() if s.expected == corpus.CLEAN)


@pytest.mark.parametrize("name", BENIGN)
def test_benign_sample_is_clean(name: str, scanned: dict[str, Any],
                                samples: dict[str, corpus.Sample]) -> None:
    report = verdict_of(scanned, samples, name)
    assert report["verdict"] == "clean", report
    assert not [f for f in report["findings"] if f["severity"] in ("high", "critical")]


@pytest.mark.parametrize("name", ["torch_state_dict", "torch_fp16_bf16", "torch_legacy", "hf_training_args",
                                  "sklearn_joblib", "sklearn_random_forest", "safetensors"])
def test_ordinary_weights_raise_no_finding_at_all(name: str, scanned: dict[str, Any],
                                                  samples: dict[str, corpus.Sample]) -> None:
    # a gate that warns on every torch file gets waived: plain weights must pass silently
    assert verdict_of(scanned, samples, name)["findings"] == []


def test_whole_module_save_warns_but_stays_clean(scanned: dict[str, Any],
                                                 samples: dict[str, corpus.Sample]) -> None:
    report = verdict_of(scanned, samples, "torch_whole_module")
    assert report["verdict"] == "clean"
    assert {f["severity"] for f in report["findings"]} == {"medium"}
    assert any("__main__.Net" in f["message"] for f in report["findings"] if f["tool"] == "curator")
