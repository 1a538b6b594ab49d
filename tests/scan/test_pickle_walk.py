"""The symbolic pickle walk: every global and call is seen, nothing is executed."""

from __future__ import annotations

import io
import pickle

import joblib
import numpy as np
from sklearn.tree import DecisionTreeClassifier

from curator.core.models import Severity
from curator.stages.scan.checks.pickle_walk import Walk, walk_file
from curator.stages.scan.checks.pickles import judge_pickle
from curator.stages.scan.rules import GlobalRules
from tests.scan import pickles
from tests.scan.pickles import Ops

RULES = GlobalRules.build(["collections.OrderedDict", "torch._utils._rebuild_tensor_v2", "torch.*Storage",
                           "numpy.dtype", "numpy.core.multiarray._reconstruct", "numpy.ndarray",
                           "joblib.numpy_pickle.NumpyArrayWrapper",
                           "sklearn.linear_model._logistic.LogisticRegression"], [])


def walk(data: bytes) -> Walk:
    return walk_file(io.BytesIO(data), len(data))


def codes(data: bytes) -> dict[str, Severity]:
    return {f.code: f.severity for f in judge_pickle(walk(data), RULES, "x")}


def test_plain_data_pickle_has_no_globals() -> None:
    # pickle.dumps of plain data is the test's own, never the candidate's: it is only walked
    result = walk(pickle.dumps({"a": [1, 2.5, "x"], "b": (None, True)}, protocol=4))
    assert result.error is None and result.globals == [] and len(result.streams) == 1


def test_memoized_names_are_resolved_for_stack_global() -> None:
    result = walk(pickles.memo_hidden_stack_global())
    assert [(g.module, g.name, sorted(g.uses)) for g in result.globals] == [("os", "system", ["call"])]


def test_dotted_name_is_kept_whole_and_graded_critical() -> None:
    result = walk(pickles.dotted_stack_global())
    assert result.globals[0].dotted == "logging.os.system"
    assert codes(pickles.dotted_stack_global())["pickle-dangerous-global"] == Severity.CRITICAL


def test_dotted_name_into_dunders_is_critical_even_for_unknown_modules() -> None:
    data = (Ops(4).short_string("mypkg").short_string("Foo.__init__.__globals__").stack_global()
            .stop().bytes_())
    assert codes(data) == {"pickle-dangerous-global": Severity.CRITICAL}


def test_python2_names_are_mapped_like_the_unpickler_does() -> None:
    data = Ops(2).global_("__builtin__", "eval").string("1").tuple1().reduce().stop().bytes_()
    assert walk(data).globals[0].dotted == "builtins.eval"


def test_unknown_call_is_high_unknown_class_medium_reference_low() -> None:
    call = Ops(2).global_("mypkg.mod", "run").empty_tuple().reduce().stop().bytes_()
    new = Ops(2).global_("mypkg.mod", "Net").empty_tuple().newobj().empty_dict().build().stop().bytes_()
    ref = Ops(2).global_("mypkg.mod", "Thing").stop().bytes_()
    assert codes(call) == {"pickle-unknown-call": Severity.HIGH}
    assert codes(new) == {"pickle-unknown-class": Severity.MEDIUM}
    assert codes(ref) == {"pickle-unknown-import": Severity.LOW}


def test_build_on_an_imported_global_is_setattr() -> None:
    data = Ops(2).global_("mypkg", "Config").empty_dict().build().stop().bytes_()
    assert codes(data) == {"pickle-global-setattr": Severity.HIGH}


def test_allowed_state_dict_raises_nothing() -> None:
    data = pickles.benign_state_dict({"w": ("FloatStorage", (2, 3)), "b": ("HalfStorage", (3,))})
    assert walk(data).error is None
    assert codes(data) == {}


def test_broken_stream_keeps_what_came_before_the_break() -> None:
    result = walk(pickles.broken_after_payload())
    assert result.error is not None and result.error.offset == 24
    assert result.globals[0].dotted == "os.system"
    assert codes(pickles.broken_after_payload())["pickle-broken"] == Severity.HIGH


def test_trailing_bytes_after_a_pickle_are_not_a_second_stream() -> None:
    data = Ops(2).none().stop().bytes_() + b"\x00\x01\x02 not a pickle"
    result = walk(data)
    assert result.error is None and len(result.streams) == 1 and result.end == 4


def test_legacy_torch_stops_after_five_streams() -> None:
    from tests.scan import formats

    magic = Ops(2).long1(formats.LEGACY_TORCH_MAGIC).stop().bytes_()
    rest = b"".join(Ops(2).int_(i).stop().bytes_() for i in range(4))
    data = magic + rest + b"\x80\x02" + b"\xff" * 64  # storage bytes that start like a pickle
    result = walk(data)
    assert result.kind == "torch-legacy" and len(result.streams) == 5 and result.error is None
    assert result.skipped == [(result.end, len(data))]


def test_joblib_array_bytes_are_stepped_over() -> None:
    buffer = io.BytesIO()
    joblib.dump({"w": np.arange(1000, dtype="float64"), "after": "tail"}, buffer)
    data = buffer.getvalue()
    result = walk(data)
    assert result.kind == "joblib" and result.error is None
    assert len(result.skipped) == 1 and result.skipped[0][1] - result.skipped[0][0] >= 8000
    assert result.end == len(data)


def test_joblib_structured_and_object_arrays() -> None:
    tree = DecisionTreeClassifier(max_depth=3, random_state=0).fit(np.random.default_rng(0).random((30, 2)),
                                                                  np.arange(30) % 3)
    buffer = io.BytesIO()
    joblib.dump({"tree": tree, "objects": np.array(["a", 1, None], dtype=object)}, buffer)
    data = buffer.getvalue()
    result = walk(data)
    assert result.error is None and result.end == len(data)
    assert "sklearn.tree._tree.Tree" in {g.dotted for g in result.globals}


def test_opcode_budget_stops_the_walk() -> None:
    data = pickle.dumps(list(range(5000)), protocol=2)
    result = walk_file(io.BytesIO(data), len(data), max_opcodes=100)
    assert result.error is not None and "more opcodes" in result.error.message


def test_huge_byte_arguments_are_skipped_not_read() -> None:
    size = 3 << 20
    data = b"\x80\x04\x8e" + size.to_bytes(8, "little") + b"\x00" * size + b"."
    result = walk(data)
    assert result.error is None and result.end == len(data)
