"""Every benign sample — realistic files of every format a model repo carries — must come out clean."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest

from curator.core.policy import Policy
from curator.core.progress import Progress
from curator.stages.scan import ScanConfig, files_under, scan_paths
from tests.scan import corpus
from tests.scan.conftest import verdict_of

BENIGN = ["torch_state_dict", "torch_fp16_bf16", "torch_whole_module", "hf_training_args", "torch_legacy",
          "numpy_npy", "numpy_npz", "sklearn_joblib", "sklearn_joblib_compressed", "sklearn_random_forest",
          "keras_h5", "keras_v3", "gguf_chat_template", "safetensors", "json_config.json",
          "json_generation_config.json", "json_special_tokens_map.json", "json_tokenizer.json",
          "json_tokenizer_config.json", "chat_template_jinja", "readme", "gitattributes", "sentencepiece",
          "onnx_inline", "onnx_external", "onnx_external_data"]
#: the files real Hugging Face repositories hold (benign_more.py), most written by the real libraries
BENIGN_MORE = ["trainer_optimizer_state", "trainer_scheduler_state", "trainer_rng_state",
               "trainer_scaler_state", "trainer_state_dict_real", "trainer_state_json",
               "trainer_training_args_real", "trainer_seq2seq_training_args_real",
               "sklearn_function_transformer_ufunc",
               "torch_whole_model_real", "protocol2_data_constructors", "protocol0_py2_builtin_names",
               "numpy_random_generators",
               "numpy_protocol5_pickle", "pathlib_paths_checkpoint", "pathlib_local_py313",
               "lightning_omegaconf_ckpt", "lightning_attribute_dict_ckpt", "fairseq_checkpoint",
               "sklearn_pipeline", "sklearn_column_transformer", "sklearn_hist_gradient_boosting",
               *(f"joblib_compressed_{m}" for m in ("lzma", "xz", "lz4", "bz2", "gzip")),
               *(f"chat_template_{m}" for m in ("mistral", "gemma", "zephyr", "phi3", "qwen25_tools",
                                                 "llama31", "deepseek_r1")),
               "kerashub_config", "kerashub_metadata", "kerashub_tokenizer", "kerashub_weights_h5",
               "keras3_function_reference", "tf2_savedmodel_saver_ops", "tf2_fingerprint",
               "tf2_keras_metadata", "tf2_variables_index", "tf2_variables_data", "flax_msgpack",
               "readme_png",
               "audio_sample_wav",
               "nemo_archive", "gguf_every_value_type", "gguf_modelaudit_cannot_parse"]


def test_benign_list_covers_the_corpus(samples: dict[str, corpus.Sample]) -> None:
    assert sorted(BENIGN + BENIGN_MORE) == sorted(n for n, s in samples.items() if s.expected == corpus.CLEAN)


@pytest.mark.parametrize("name", BENIGN + BENIGN_MORE)
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


Scanned = dict[str, Any]
Samples = dict[str, corpus.Sample]


# -- the false alarms issue #14 names, one test each ----------------------------------------------
def _clean(scanned: Scanned, samples: Samples, name: str) -> dict[str, Any]:
    report = verdict_of(scanned, samples, name)
    assert report["verdict"] == "clean", report
    return report


def test_builtin_data_constructors_are_data(scanned: Scanned, samples: Samples) -> None:
    # set, frozenset, slice, complex, range, bytearray as builtins.X (protocol 2) and __builtin__.X (0)
    for name in ("protocol2_data_constructors", "protocol0_py2_builtin_names"):
        assert _clean(scanned, samples, name)["findings"] == []


def test_whole_torch_module_save_is_clean(scanned: Scanned, samples: Samples) -> None:
    # torch.save(model) of an nn.Sequential: layer classes from the generated torch.nn list
    assert _clean(scanned, samples, "torch_whole_model_real")["findings"] == []


def test_pathlib_paths_are_clean(scanned: Scanned, samples: Samples) -> None:
    for name in ("pathlib_paths_checkpoint", "pathlib_local_py313"):
        assert _clean(scanned, samples, name)["findings"] == []


def test_lightning_omegaconf_hyper_parameters_are_clean(scanned: dict[str, Any],
                                                         samples: dict[str, corpus.Sample]) -> None:
    report = _clean(scanned, samples, "lightning_omegaconf_ckpt")
    assert not [f for f in report["findings"] if f["tool"] == "curator"]


def test_nemo_tar_with_its_dot_entry_is_clean(scanned: Scanned, samples: Samples) -> None:
    report = _clean(scanned, samples, "nemo_archive")
    assert "archive-path-traversal" not in {f["code"] for f in report["findings"]}


def test_gguf_modelaudit_cannot_parse_is_covered_by_curators_reader(
        corpus_root: Path, scanned: Scanned, samples: Samples) -> None:
    _clean(scanned, samples, "gguf_modelaudit_cannot_parse")
    path = corpus_root / samples["gguf_modelaudit_cannot_parse"].path
    config = ScanConfig.from_section(Policy.load().section("scan"))
    report = scan_paths(path, files_under(path, config), config, Progress("scan", [], threading.Event()))
    (item,) = report.files
    # the scanner's error stays visible, with the reader that covered the file
    voice = item.voices["modelaudit"]
    assert item.verdict.value == "clean" and voice.status == "clean"
    assert voice.note is not None and "could not read" in voice.note and "curator's GGUF reader" in voice.note
