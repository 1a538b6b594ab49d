"""The labelled scan corpus: realistic benign model files here, one malicious sample per technique
in ``attacks.py``.

``build(root)`` writes every sample under ``root/benign/<name>/`` or ``root/malicious/<name>/``
and returns what each must come out as. Malicious payloads are harmless and written byte by
byte; nothing is ever loaded.
"""

from __future__ import annotations

import io
import json
import zipfile
from dataclasses import dataclass
from pathlib import Path

from tests.scan import formats, pickles
from tests.scan.pickles import Ops

CLEAN, BLOCKED, UNSCANNED = "clean", "blocked", "unscanned"

ORDINARY_TEMPLATE = (
    "{% for message in messages %}{% if loop.first and message['role'] != 'system' %}"
    "{{ '<|im_start|>system\\nYou are a helpful assistant.<|im_end|>\\n' }}{% endif %}"
    "{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] | trim + '<|im_end|>\\n' }}"
    "{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}"
)
LLAMA3_TEMPLATE = (
    "{% set ns = namespace(system='') %}{{ bos_token }}"
    "{% for message in messages %}{% if message.role == 'system' %}{% set ns.system = message.content %}"
    "{% elif (message.role == 'user') != (loop.index0 % 2 == 0) %}"
    "{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}"
    "{% else %}{{ '<|start_header_id|>' + message['role'] + '<|end_header_id|>\\n\\n' "
    "+ message['content'].strip() "
    "+ '<|eot_id|>' }}{% endif %}{% endfor %}"
    "{% if tools %}{% for tool in tools %}{{ tool | tojson(indent=2) }}{% endfor %}{% endif %}"
    "{% if add_generation_prompt %}{{ '<|start_header_id|>assistant<|end_header_id|>\\n\\n' }}{% endif %}"
)
# classic server-side template injection: reach os through a Jinja global's __globals__
INJECTED_TEMPLATE = (
    "{% for message in messages %}{{ message['content'] }}{% endfor %}"
    "{{ cycler.__init__.__globals__.os.popen('true').read() }}"
)
ATTR_FILTER_TEMPLATE = (
    "{% for message in messages %}{{ message['content'] }}{% endfor %}"
    "{{ (lipsum | attr('__glo' ~ 'bals__'))['os'].system('true') }}"
)


@dataclass(frozen=True)
class Sample:
    """One corpus file: where it is (relative to the corpus root) and what it must come out as."""

    name: str
    path: str
    expected: str


def _dir(root: Path, kind: str, name: str) -> Path:
    folder = root / kind / name
    folder.mkdir(parents=True, exist_ok=True)
    return folder


# -- benign --------------------------------------------------------------------------------------
def _state_dict_zip(folder: Path, filename: str, tensors: dict[str, tuple[str, tuple[int, ...]]]) -> Path:
    sizes = {"FloatStorage": 4, "HalfStorage": 2, "BFloat16Storage": 2, "LongStorage": 8}
    storages = []
    for storage, shape in tensors.values():
        numel = 1
        for dim in shape:
            numel *= dim
        storages.append(b"\x01" * numel * sizes[storage])
    return formats.torch_zip(folder / filename, pickles.benign_state_dict(tensors), storages,
                             prefix=Path(filename).stem)


def _whole_module_pkl() -> bytes:
    """torch.save(model) of ``class Net(nn.Module)`` holding one Linear: a whole-module save."""
    def odict(ops: Ops) -> Ops:
        return ops.global_("collections", "OrderedDict").empty_tuple().reduce()

    ops = Ops(2).global_("__main__", "Net").empty_tuple().newobj().empty_dict().mark()
    ops.string("training").bool_(True).string("_parameters")
    odict(ops).string("_buffers")
    odict(ops).string("_modules")
    odict(ops).mark().string("fc")
    ops.global_("torch.nn.modules.linear", "Linear").empty_tuple().newobj().empty_dict().mark()
    ops.string("training").bool_(True).string("_parameters")
    odict(ops).mark().string("weight").global_("torch._utils", "_rebuild_parameter").mark()
    ops.global_("torch._utils", "_rebuild_tensor_v2").mark().mark().string("storage")
    ops.global_("torch", "FloatStorage").string("0").string("cpu").int_(8).tuple_().binpersid()
    ops.int_(0).mark().int_(2).int_(4).tuple_().mark().int_(4).int_(1).tuple_().bool_(False)
    odict(ops).tuple_().reduce().bool_(True)
    odict(ops).tuple_().reduce().setitems()
    ops.string("_buffers")
    odict(ops).string("in_features").int_(4).string("out_features").int_(2).setitems().build()
    ops.setitems().setitems().build().stop()
    return ops.bytes_()


def _training_args_pkl() -> bytes:
    """HF ``training_args.bin``: a TrainingArguments dataclass with its enums and a torch.device."""
    ops = Ops(2).global_("transformers.training_args", "TrainingArguments").empty_tuple().newobj()
    ops.empty_dict().mark().string("output_dir").string("out").string("learning_rate").float_(5e-5)
    for key, module, cls, value in (
        ("eval_strategy", "transformers.trainer_utils", "IntervalStrategy", "no"),
        ("lr_scheduler_type", "transformers.trainer_utils", "SchedulerType", "linear"),
        ("optim", "transformers.training_args", "OptimizerNames", "adamw_torch"),
        ("hub_strategy", "transformers.trainer_utils", "HubStrategy", "every_save"),
    ):
        ops.string(key).global_(module, cls).string(value).tuple1().reduce()
    ops.string("_n_gpu").int_(0).string("__cached__setup_devices")
    ops.global_("torch", "device").string("cpu").tuple1().reduce()
    return ops.setitems().build().stop().bytes_()


def _keras_config(layers: list[dict[str, object]]) -> dict[str, object]:
    return {"module": "keras", "class_name": "Sequential", "registered_name": None,
            "config": {"name": "sequential", "trainable": True, "layers": layers}}


DENSE_LAYER: dict[str, object] = {
    "module": "keras.layers", "class_name": "Dense", "registered_name": None,
    "config": {"name": "dense", "units": 2, "activation": "relu", "use_bias": True}}
INPUT_LAYER: dict[str, object] = {
    "module": "keras.layers", "class_name": "InputLayer", "registered_name": None,
    "config": {"batch_shape": [None, 4], "dtype": "float32", "name": "input_layer"}}


def _h5_bytes(model_config: dict[str, object] | None) -> bytes:
    import h5py
    import numpy as np

    buffer = io.BytesIO()
    with h5py.File(buffer, "w") as h5:
        if model_config is not None:
            h5.attrs["model_config"] = json.dumps(model_config)
            h5.attrs["keras_version"] = "2.15.0"
            h5.attrs["backend"] = "tensorflow"
        h5.create_dataset("model_weights/dense/dense/kernel:0", data=np.ones((4, 2), dtype="float32"))
    return buffer.getvalue()


def _keras_zip(path: Path, layers: list[dict[str, object]]) -> Path:
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("metadata.json", json.dumps({"keras_version": "3.5.0",
                                                 "date_saved": "2026-01-01@00:00:00"}))
        zf.writestr("config.json", json.dumps(_keras_config(layers)))
        zf.writestr("model.weights.h5", _h5_bytes(None))
    return path


def benign(root: Path) -> list[Sample]:
    """Every benign sample; each must come out ``clean``."""
    import joblib
    import numpy as np
    from sklearn.linear_model import LogisticRegression

    out: list[Sample] = []

    def add(name: str, path: Path) -> None:
        out.append(Sample(name, path.relative_to(root).as_posix(), CLEAN))

    d = _dir(root, "benign", "torch_state_dict")
    add("torch_state_dict", _state_dict_zip(d, "model.pt", {"fc.weight": ("FloatStorage", (2, 4)),
                                                             "fc.bias": ("FloatStorage", (2,))}))
    d = _dir(root, "benign", "torch_fp16_bf16")
    add("torch_fp16_bf16", _state_dict_zip(d, "pytorch_model.bin", {"a.weight": ("HalfStorage", (4, 4)),
                                                                     "b.weight": ("BFloat16Storage", (4, 4)),
                                                                     "pos": ("LongStorage", (4,))}))
    d = _dir(root, "benign", "torch_whole_module")
    add("torch_whole_module", formats.torch_zip(d / "model.pt", _whole_module_pkl(), [b"\x01" * 32],
                                                prefix="model"))
    d = _dir(root, "benign", "hf_training_args")
    add("hf_training_args", formats.torch_zip(d / "training_args.bin", _training_args_pkl(), [],
                                              prefix="training_args"))
    d = _dir(root, "benign", "torch_legacy")
    legacy = pickles.benign_state_dict({"w": ("FloatStorage", (2, 2))}, legacy=True)
    add("torch_legacy", formats.legacy_torch(d / "model.pt", legacy, {"0": b"\x02" * 16}))
    d = _dir(root, "benign", "numpy")
    np.save(d / "weights.npy", np.arange(12, dtype="float32").reshape(3, 4), allow_pickle=False)
    add("numpy_npy", d / "weights.npy")
    np.savez(d / "arrays.npz", a=np.ones(3), b=np.zeros((2, 2), dtype="int64"))
    add("numpy_npz", d / "arrays.npz")
    d = _dir(root, "benign", "sklearn")
    rng = np.random.default_rng(0)
    model = LogisticRegression().fit(rng.random((20, 3)), np.arange(20) % 2)
    joblib.dump(model, d / "model.joblib")
    add("sklearn_joblib", d / "model.joblib")
    joblib.dump(model, d / "model_compressed.joblib", compress=3)
    add("sklearn_joblib_compressed", d / "model_compressed.joblib")
    from sklearn.ensemble import RandomForestClassifier

    forest = RandomForestClassifier(n_estimators=3, max_depth=3, random_state=0)
    joblib.dump(forest.fit(rng.random((40, 3)), np.arange(40) % 2), d / "forest.joblib")
    add("sklearn_random_forest", d / "forest.joblib")
    d = _dir(root, "benign", "keras")
    (d / "model.h5").write_bytes(_h5_bytes(_keras_config([INPUT_LAYER, DENSE_LAYER])))
    add("keras_h5", d / "model.h5")
    add("keras_v3", _keras_zip(d / "model.keras", [INPUT_LAYER, DENSE_LAYER]))
    d = _dir(root, "benign", "gguf")
    add("gguf_chat_template", formats.gguf(d / "model.gguf", {
        "general.architecture": "llama", "general.name": "tiny", "llama.context_length": 2048,
        "tokenizer.ggml.model": "gpt2", "tokenizer.ggml.tokens": ["<s>", "</s>", "a", "b"],
        "tokenizer.chat_template": ORDINARY_TEMPLATE}))
    d = _dir(root, "benign", "hf_folder")
    add("safetensors", formats.safetensors(d / "model.safetensors", {
        "embed.weight": ("F16", (8, 4)), "lm_head.weight": ("BF16", (8, 4)), "norm": ("F32", (4,))}))
    for name, doc in {
        "config.json": {"architectures": ["LlamaForCausalLM"], "model_type": "llama", "hidden_size": 64},
        "generation_config.json": {"bos_token_id": 1, "eos_token_id": 2},
        "special_tokens_map.json": {"bos_token": "<s>", "eos_token": "</s>"},
        "tokenizer.json": {"version": "1.0", "model": {"type": "BPE", "vocab": {"a": 0}, "merges": []}},
        "tokenizer_config.json": {"bos_token": "<s>", "eos_token": "</s>", "chat_template": LLAMA3_TEMPLATE},
    }.items():
        (d / name).write_text(json.dumps(doc, indent=2))
        add(f"json_{name}", d / name)
    (d / "chat_template.jinja").write_text(ORDINARY_TEMPLATE)
    add("chat_template_jinja", d / "chat_template.jinja")
    (d / "README.md").write_text("---\nlicense: apache-2.0\n---\n# tiny\ncopyright notice\n")
    add("readme", d / "README.md")
    (d / ".gitattributes").write_text("*.safetensors filter=lfs diff=lfs merge=lfs -text\n")
    add("gitattributes", d / ".gitattributes")
    add("sentencepiece", formats.sentencepiece_model(d / "tokenizer.model"))
    d = _dir(root, "benign", "onnx")
    add("onnx_inline", formats.onnx_model(d / "model.onnx"))
    add("onnx_external", formats.onnx_model(d / "external.onnx", external_location="external.onnx.data"))
    (d / "external.onnx.data").write_bytes(b"\x00" * 32)
    add("onnx_external_data", d / "external.onnx.data")
    return out



def build(root: Path) -> list[Sample]:
    """Write the whole corpus under ``root``; returns every sample with its expected verdict."""
    from tests.scan.attacks import malicious
    from tests.scan.attacks_more import malicious_more
    from tests.scan.benign_more import benign_more

    return benign(root) + benign_more(root) + malicious(root) + malicious_more(root)
