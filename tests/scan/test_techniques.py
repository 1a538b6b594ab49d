"""One test per attack technique, named for it: each sample must come out blocked (or unscanned).

Every sample is written byte by byte with a harmless payload (tests/scan/corpus.py) and scanned
once, for real, through ``curator scan --json`` with modelscan, picklescan and modelaudit.
"""

from __future__ import annotations

import inspect
import sys
from typing import Any

from tests.scan import corpus
from tests.scan.conftest import verdict_of

Scanned = dict[str, Any]
Samples = dict[str, corpus.Sample]


def _blocked(scanned: Scanned, samples: Samples, name: str, code: str) -> dict[str, Any]:
    report = verdict_of(scanned, samples, name)
    assert report["verdict"] == "blocked", report
    codes = {f["code"] for f in report["findings"]}
    assert code in codes, f"{name}: expected a {code} finding, got {sorted(codes)}"
    return report


# -- pickles, however they are named or opened ---------------------------------------------
def test_plain_reduce_pkl(scanned: Scanned, samples: Samples) -> None:
    report = _blocked(scanned, samples, "plain_reduce_pkl", "pickle-dangerous-global")
    # the textbook case: every scanner agrees
    assert {f["tool"] for f in report["findings"]} >= {"curator", "modelscan", "picklescan", "modelaudit"}


def test_dotted_stack_global(scanned: Scanned, samples: Samples) -> None:
    report = _blocked(scanned, samples, "dotted_stack_global", "pickle-dangerous-global")
    assert any("logging.os.system" in f["message"] for f in report["findings"])


def test_memo_hidden_stack_global(scanned: Scanned, samples: Samples) -> None:
    report = _blocked(scanned, samples, "memo_hidden_stack_global", "pickle-dangerous-global")
    assert any("os.system" in f["message"] for f in report["findings"] if f["tool"] == "curator")


def test_inst_opcode(scanned: Scanned, samples: Samples) -> None:
    _blocked(scanned, samples, "inst_opcode", "pickle-dangerous-global")


def test_obj_opcode(scanned: Scanned, samples: Samples) -> None:
    _blocked(scanned, samples, "obj_opcode", "pickle-dangerous-global")


def test_getattr_import_gadget(scanned: Scanned, samples: Samples) -> None:
    report = _blocked(scanned, samples, "getattr_import_gadget", "pickle-dangerous-global")
    assert "pickle-computed-call" in {f["code"] for f in report["findings"]}


def test_builtins_print_call(scanned: Scanned, samples: Samples) -> None:
    _blocked(scanned, samples, "builtins_print_call", "pickle-dangerous-global")


def test_protocol5_framed(scanned: Scanned, samples: Samples) -> None:
    _blocked(scanned, samples, "protocol5_framed", "pickle-dangerous-global")


def test_second_pickle_in_stream(scanned: Scanned, samples: Samples) -> None:
    _blocked(scanned, samples, "second_pickle_in_stream", "pickle-dangerous-global")


def test_raw_pickle_named_bin(scanned: Scanned, samples: Samples) -> None:
    report = _blocked(scanned, samples, "raw_pickle_named_bin", "pickle-dangerous-global")
    assert report["format"] == "pickle"
    # modelscan skips a raw pickle named .bin by extension; curator hands it a .pkl link instead
    assert "modelscan" in {f["tool"] for f in report["findings"]}


def test_raw_pickle_named_pt(scanned: Scanned, samples: Samples) -> None:
    _blocked(scanned, samples, "raw_pickle_named_pt", "pickle-dangerous-global")


def test_raw_pickle_named_ckpt(scanned: Scanned, samples: Samples) -> None:
    _blocked(scanned, samples, "raw_pickle_named_ckpt", "pickle-dangerous-global")


def test_raw_pickle_named_tokenizer_model(scanned: Scanned, samples: Samples) -> None:
    _blocked(scanned, samples, "raw_pickle_named_tokenizer_model", "pickle-dangerous-global")


def test_raw_pickle_no_extension(scanned: Scanned, samples: Samples) -> None:
    _blocked(scanned, samples, "raw_pickle_no_extension", "pickle-dangerous-global")


def test_raw_pickle_named_json(scanned: Scanned, samples: Samples) -> None:
    report = _blocked(scanned, samples, "raw_pickle_named_json", "pickle-dangerous-global")
    assert report["format"] == "pickle"


def test_nullifai_broken_pickle(scanned: Scanned, samples: Samples) -> None:
    report = _blocked(scanned, samples, "nullifai_broken_pickle", "pickle-dangerous-global")
    assert "pickle-broken" in {f["code"] for f in report["findings"]}


# -- wrapped: compressed, archived, embedded -----------------------------------------------
def test_gzip_wrapped_pickle(scanned: Scanned, samples: Samples) -> None:
    _blocked(scanned, samples, "gzip_wrapped_pickle", "pickle-dangerous-global")


def test_bz2_wrapped_pickle(scanned: Scanned, samples: Samples) -> None:
    _blocked(scanned, samples, "bz2_wrapped_pickle", "pickle-dangerous-global")


def test_xz_wrapped_pickle(scanned: Scanned, samples: Samples) -> None:
    _blocked(scanned, samples, "xz_wrapped_pickle", "pickle-dangerous-global")


def test_tar_wrapped_pickle(scanned: Scanned, samples: Samples) -> None:
    report = _blocked(scanned, samples, "tar_wrapped_pickle", "pickle-dangerous-global")
    assert any("model/data.pkl" in f["message"] for f in report["findings"])


def test_tar_gz_wrapped_pickle(scanned: Scanned, samples: Samples) -> None:
    _blocked(scanned, samples, "tar_gz_wrapped_pickle", "pickle-dangerous-global")


def test_seven_zip_wrapped_model(scanned: Scanned, samples: Samples) -> None:
    report = verdict_of(scanned, samples, "seven_zip_wrapped_model")
    assert report["verdict"] == "unscanned"
    assert any("7-Zip" in r for r in report["reasons"])


def test_torch_zip_reduce(scanned: Scanned, samples: Samples) -> None:
    _blocked(scanned, samples, "torch_zip_reduce", "pickle-dangerous-global")


def test_torch_zip_extra_pickle(scanned: Scanned, samples: Samples) -> None:
    _blocked(scanned, samples, "torch_zip_extra_pickle", "pickle-dangerous-global")


def test_torch_zip_pickle_member_misnamed(scanned: Scanned, samples: Samples) -> None:
    report = _blocked(scanned, samples, "torch_zip_pickle_member_misnamed", "pickle-dangerous-global")
    assert any("extra/state" in f["message"] for f in report["findings"])


def test_legacy_torch_sys_info_payload(scanned: Scanned, samples: Samples) -> None:
    _blocked(scanned, samples, "legacy_torch_sys_info_payload", "pickle-dangerous-global")


def test_joblib_reduce(scanned: Scanned, samples: Samples) -> None:
    # the payload sits after array bytes that joblib writes into the stream: parsers that
    # do not step over them stop early and never see it
    report = _blocked(scanned, samples, "joblib_reduce", "pickle-dangerous-global")
    assert any("os.system" in f["message"] for f in report["findings"] if f["tool"] == "curator")


def test_joblib_reduce_compressed(scanned: Scanned, samples: Samples) -> None:
    _blocked(scanned, samples, "joblib_reduce_compressed", "pickle-dangerous-global")


def test_numpy_object_array_pickle(scanned: Scanned, samples: Samples) -> None:
    _blocked(scanned, samples, "numpy_object_array_pickle", "pickle-dangerous-global")


def test_npz_object_array_pickle(scanned: Scanned, samples: Samples) -> None:
    _blocked(scanned, samples, "npz_object_array_pickle", "pickle-dangerous-global")


# -- Keras -----------------------------------------------------------------------------------
def test_keras3_lambda_layer(scanned: Scanned, samples: Samples) -> None:
    _blocked(scanned, samples, "keras3_lambda_layer", "keras-lambda-layer")


def test_keras_h5_lambda_layer(scanned: Scanned, samples: Samples) -> None:
    _blocked(scanned, samples, "keras_h5_lambda_layer", "keras-lambda-layer")


# -- archives that attack the extractor ----------------------------------------------------
def test_zip_slip_member(scanned: Scanned, samples: Samples) -> None:
    _blocked(scanned, samples, "zip_slip_member", "archive-path-traversal")


def test_zip_absolute_member(scanned: Scanned, samples: Samples) -> None:
    _blocked(scanned, samples, "zip_absolute_member", "archive-path-traversal")


def test_tar_symlink_escape(scanned: Scanned, samples: Samples) -> None:
    _blocked(scanned, samples, "tar_symlink_escape", "archive-link-escapes")


def test_zip_bomb_is_finding(scanned: Scanned, samples: Samples) -> None:
    _blocked(scanned, samples, "zip_bomb_is_finding", "archive-bomb")


# -- formats that cannot run code but can lie to a loader ----------------------------------
def test_safetensors_lying_header(scanned: Scanned, samples: Samples) -> None:
    _blocked(scanned, samples, "safetensors_lying_header", "safetensors-bad-header")


def test_safetensors_overlapping_tensors(scanned: Scanned, samples: Samples) -> None:
    _blocked(scanned, samples, "safetensors_overlapping_tensors", "safetensors-bad-header")


def test_safetensors_trailing_pickle(scanned: Scanned, samples: Samples) -> None:
    _blocked(scanned, samples, "safetensors_trailing_pickle", "safetensors-bad-header")


def test_onnx_external_data_traversal(scanned: Scanned, samples: Samples) -> None:
    _blocked(scanned, samples, "onnx_external_data_traversal", "onnx-external-data-escapes")


def test_onnx_external_data_absolute(scanned: Scanned, samples: Samples) -> None:
    _blocked(scanned, samples, "onnx_external_data_absolute", "onnx-external-data-escapes")


# -- chat templates ----------------------------------------------------------------------------
def test_gguf_jinja_injection(scanned: Scanned, samples: Samples) -> None:
    _blocked(scanned, samples, "gguf_jinja_injection", "template-injection")


def test_tokenizer_config_jinja_injection(scanned: Scanned, samples: Samples) -> None:
    _blocked(scanned, samples, "tokenizer_config_jinja_injection", "template-injection")


def test_tokenizer_config_attr_filter_injection(scanned: Scanned, samples: Samples) -> None:
    report = _blocked(scanned, samples, "tokenizer_config_attr_filter_injection", "template-suspicious")
    assert any("attr filter" in f["message"] for f in report["findings"])


def test_chat_template_jinja_file_injection(scanned: Scanned, samples: Samples) -> None:
    _blocked(scanned, samples, "chat_template_jinja_file_injection", "template-injection")


# -- the corpus as a whole -------------------------------------------------------------------
def test_every_technique_has_its_own_test(samples: Samples) -> None:
    from tests.scan import test_bypasses

    names = {n[len("test_"):] for module in (sys.modules[__name__], test_bypasses)
             for n, _ in inspect.getmembers(module, inspect.isfunction) if n.startswith("test_")}
    missing = sorted(n for n, s in samples.items() if s.expected != corpus.CLEAN and n not in names)
    assert not missing, f"techniques without a named test: {missing}"


def test_disagreement_is_reported_where_scanners_miss(scanned: Scanned, samples: Samples) -> None:
    # modelscan and picklescan both read the dotted STACK_GLOBAL sample and miss it
    path = samples["dotted_stack_global"].path
    disagreement = next(d for d in scanned["disagreements"] if d["file"] == path)
    assert "curator" in disagreement["flagged_by"]
    assert "picklescan" in disagreement["clean_by"]
