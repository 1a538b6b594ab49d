"""More benign samples: the files real Hugging Face repositories hold, most written by the real libraries.

torch.save / joblib.dump / pickle.dumps write them here (writing is not loading); the few
formats whose library is not installed (omegaconf, Lightning, TensorFlow, KerasHub) are
written byte by byte from their layout. Each must come out clean.
"""

from __future__ import annotations

import argparse
import io
import json
import pathlib
import pickle
import random
import struct
import tarfile
import zipfile
from pathlib import Path

from tests.scan import formats, pickles, templates_real, tf_formats
from tests.scan.corpus import CLEAN, INPUT_LAYER, Sample, _dir, _h5_bytes, _keras_zip
from tests.scan.pickles import Ops


def _omegaconf_dictconfig(ops: Ops, values: dict[str, float | str]) -> None:
    """A pickled omegaconf DictConfig as Lightning stores hyper-parameters (NEWOBJ + BUILD state)."""
    def metadata(cls: str, obj_type: tuple[str, str] | None) -> None:
        ops.global_("omegaconf.base", cls).empty_tuple().newobj().empty_dict().mark()
        ops.string("ref_type").global_("typing", "Any").string("object_type")
        if obj_type:
            ops.global_(*obj_type)
        else:
            ops.none()
        ops.string("optional").bool_(True).string("key").none().string("flags").empty_dict()
        ops.string("flags_root").bool_(False)
        ops.string("resolver_cache").global_("collections", "defaultdict").global_("builtins", "dict")
        ops.tuple1().reduce()
        if cls == "ContainerMetadata":
            ops.string("key_type").global_("typing", "Any").string("element_type").global_("typing", "Any")
        ops.setitems().build()

    ops.global_("omegaconf.dictconfig", "DictConfig").empty_tuple().newobj().empty_dict().mark()
    ops.string("_metadata")
    metadata("ContainerMetadata", ("builtins", "dict"))
    ops.string("_parent").none().string("_flags_cache").none().string("_content").empty_dict().mark()
    for key, value in values.items():
        ops.string(key).global_("omegaconf.nodes", "AnyNode").empty_tuple().newobj().empty_dict().mark()
        ops.string("_metadata")
        metadata("Metadata", None)
        ops.string("_parent").none().string("_flags_cache").none().string("_val")
        ops.string(value) if isinstance(value, str) else ops.float_(value)
        ops.setitems().build()
    ops.setitems().setitems().build()


def _lightning_data_pkl(attribute_dict: bool) -> bytes:
    ops = Ops(2).empty_dict().mark().string("epoch").int_(3).string("global_step").int_(1200)
    ops.string("pytorch-lightning_version").string("2.4.0")
    ops.string("state_dict").raw(pickles.benign_state_dict({"layer.weight": ("FloatStorage", (2, 2))})[2:-1])
    ops.string("loops").empty_dict().string("callbacks").empty_dict().string("optimizer_states").empty_list()
    ops.string("lr_schedulers").empty_list().string("hparams_name").string("kwargs")
    ops.string("hyper_parameters")
    if attribute_dict:
        ops.global_("lightning_fabric.utilities.data", "AttributeDict").empty_tuple().newobj()
        ops.mark().string("lr").float_(1e-3).string("hidden").int_(64).setitems()
    else:
        _omegaconf_dictconfig(ops, {"lr": 1e-3, "optimizer": "adamw"})
    return ops.setitems().stop().bytes_()


def _pathlib_py313() -> bytes:
    """Python 3.13 pickles paths as ``pathlib._local.PosixPath`` (a REDUCE of its parts)."""
    ops = Ops(4).empty_dict().mark().short_string("output_dir")
    ops.short_string("pathlib._local").short_string("PosixPath").stack_global()
    ops.short_string("runs").short_string("exp1").tuple2().reduce()
    ops.short_string("data").short_string("pathlib._local").short_string("PurePosixPath").stack_global()
    ops.short_string("data").tuple1().reduce()
    return ops.setitems().stop().bytes_()


def _nemo(folder: Path) -> Path:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tf:
        root = tarfile.TarInfo(".")
        root.type = tarfile.DIRTYPE
        tf.addfile(root)
        state = pickles.benign_state_dict({"encoder.weight": ("FloatStorage", (2, 2))})
        weights = io.BytesIO()
        with zipfile.ZipFile(weights, "w") as zf:
            zf.writestr("model_weights/data.pkl", state)
            zf.writestr("model_weights/data/0", b"\x00" * 16)
            zf.writestr("model_weights/version", "3\n")
        spm = io.BytesIO()
        pieces = b"".join(
            formats.field_bytes(1, formats.field_bytes(1, p) + b"\x15" + struct.pack("<f", -1.0))
            for p in ("<unk>", "▁a"))
        spm.write(pieces)
        for name, blob in {"./model_config.yaml": b"sample_rate: 16000\ntokenizer:\n  dir: null\n",
                           "./model_weights.ckpt": weights.getvalue(),
                           "./tokenizer.model": spm.getvalue(),
                           "./vocab.txt": b"<unk>\na\nb\n"}.items():
            info = tarfile.TarInfo(name)
            info.size = len(blob)
            tf.addfile(info, io.BytesIO(blob))
    path = folder / "model.nemo"
    path.write_bytes(buffer.getvalue())
    return path


def _flax_msgpack(path: Path) -> Path:
    import msgpack
    import numpy as np

    def ext(array: np.ndarray) -> msgpack.ExtType:
        return msgpack.ExtType(1, msgpack.packb((array.shape, array.dtype.name, array.tobytes())))

    dense = {"kernel": ext(np.ones((2, 2), "float32")), "bias": ext(np.zeros(2, "float32"))}
    tree = {"params": {"dense": dense}}
    path.write_bytes(msgpack.packb(tree))
    return path


def _png(path: Path) -> Path:
    from tests.scan.attacks_more import _png_bytes

    path.write_bytes(_png_bytes())
    return path


def _wav(path: Path) -> Path:
    import wave

    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(16000)
        w.writeframes(b"\x00\x00" * 160)
    return path


def _gguf_v3_types(path: Path, name: bytes = b"tiny") -> Path:
    """A GGUF that uses every scalar type and nested arrays in its metadata (the spec allows both)."""
    kvs = bytearray()

    def key(name: str, vtype: int, raw: bytes) -> None:
        encoded = name.encode()
        kvs.extend(struct.pack("<Q", len(encoded)) + encoded + struct.pack("<I", vtype) + raw)

    key("general.architecture", 8, struct.pack("<Q", 5) + b"llama")
    key("general.name", 8, struct.pack("<Q", len(name)) + name)
    nested = struct.pack("<IQ", 9, 1) + struct.pack("<IQ", 4, 2) + struct.pack("<2I", 1, 2)
    key("tokenizer.ggml.nested", 9, nested)
    key("llama.rope.freq_base", 6, struct.pack("<f", 10000.0))
    key("general.file_type", 4, struct.pack("<I", 1))
    key("general.size", 10, struct.pack("<Q", 1 << 40))
    key("llama.use_parallel", 7, b"\x01")
    key("tokenizer.ggml.scores", 9, struct.pack("<IQ", 6, 2) + struct.pack("<2f", 0.0, -1.0))
    key("tokenizer.ggml.token_type", 9, struct.pack("<IQ", 5, 2) + struct.pack("<2i", 1, 3))
    key("tokenizer.chat_template", 8, struct.pack("<Q", len(templates_real.GEMMA.encode()))
        + templates_real.GEMMA.encode())
    head = b"GGUF" + struct.pack("<IQQ", 3, 1, 10) + bytes(kvs)
    name = b"output.weight"
    head += struct.pack("<Q", len(name)) + name + struct.pack("<IQQIQ", 2, 4, 2, 1, 0)
    head += b"\x00" * (-len(head) % 32)
    path.write_bytes(head + b"\x00" * 16)
    return path


def benign_more(root: Path) -> list[Sample]:
    import joblib
    import numpy as np
    import torch
    from sklearn.compose import ColumnTransformer
    from sklearn.decomposition import PCA
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    out: list[Sample] = []

    def add(name: str, path: Path) -> None:
        out.append(Sample(name, path.relative_to(root).as_posix(), CLEAN))

    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.ReLU(), torch.nn.LayerNorm(8),
                                torch.nn.Linear(8, 2))
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
    model(torch.ones(3, 4)).sum().backward()
    optimizer.step()
    d = _dir(root, "benign", "trainer_checkpoint")
    torch.save(optimizer.state_dict(), d / "optimizer.pt")
    add("trainer_optimizer_state", d / "optimizer.pt")
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=10)
    torch.save(scheduler.state_dict(), d / "scheduler.pt")
    add("trainer_scheduler_state", d / "scheduler.pt")
    torch.save({"python": random.getstate(), "numpy": np.random.get_state(),
                "cpu": torch.random.get_rng_state()}, d / "rng_state.pth")
    add("trainer_rng_state", d / "rng_state.pth")
    torch.save(torch.amp.GradScaler("cpu").state_dict(), d / "scaler.pt")
    add("trainer_scaler_state", d / "scaler.pt")
    torch.save(model.state_dict(), d / "pytorch_model.bin")
    add("trainer_state_dict_real", d / "pytorch_model.bin")
    (d / "trainer_state.json").write_text(json.dumps({"global_step": 10, "log_history": [{"loss": 1.0}]}))
    add("trainer_state_json", d / "trainer_state.json")
    from transformers import TrainingArguments

    torch.save(TrainingArguments(output_dir=str(d / "out"), report_to=[]), d / "training_args.bin")
    add("trainer_training_args_real", d / "training_args.bin")
    from transformers import GenerationConfig, Seq2SeqTrainingArguments

    seq2seq = _dir(root, "benign", "seq2seq_checkpoint")
    arguments = Seq2SeqTrainingArguments(output_dir=str(seq2seq / "out"), report_to=[],
                                         predict_with_generate=True,
                                         generation_config=GenerationConfig(max_new_tokens=32))
    torch.save(arguments, seq2seq / "training_args.bin")
    add("trainer_seq2seq_training_args_real", seq2seq / "training_args.bin")

    d = _dir(root, "benign", "torch_whole_model_real")
    torch.save(model, d / "model.pt")
    add("torch_whole_model_real", d / "model.pt")

    d = _dir(root, "benign", "plain_data_pickles")
    data = {"set": {1, 2}, "frozen": frozenset({3}), "slice": slice(1, 5, 2), "complex": 1 + 2j,
            "range": range(3), "bytearray": bytearray(b"ab"), "bytes": b"cd", "tuple": (1, 2.5, "x")}
    (d / "data_p2.pkl").write_bytes(pickle.dumps(data, protocol=2))
    add("protocol2_data_constructors", d / "data_p2.pkl")
    (d / "data_p0.pkl").write_bytes(pickle.dumps(data, protocol=0))
    add("protocol0_py2_builtin_names", d / "data_p0.pkl")
    generators = {"gen": np.random.default_rng(0), "legacy": np.random.RandomState(1)}
    (d / "rng.pkl").write_bytes(pickle.dumps(generators))
    add("numpy_random_generators", d / "rng.pkl")
    arrays = {"weights": np.arange(12, dtype="float32").reshape(3, 4), "scale": np.float32(1.5),
              "labels": np.array(["cat", "dog"], dtype=object),
              "mask": np.ma.masked_array([1, 2], mask=[0, 1])}
    (d / "arrays_p5.pkl").write_bytes(pickle.dumps(arrays, protocol=5))
    add("numpy_protocol5_pickle", d / "arrays_p5.pkl")

    d = _dir(root, "benign", "paths")
    torch.save({"output_dir": pathlib.PurePosixPath("runs/exp1"), "cache": pathlib.Path("/tmp/cache"),
                "win": pathlib.PureWindowsPath("C:/data")}, d / "paths.pt")
    add("pathlib_paths_checkpoint", d / "paths.pt")
    (d / "paths313.pkl").write_bytes(_pathlib_py313())
    add("pathlib_local_py313", d / "paths313.pkl")

    d = _dir(root, "benign", "lightning")
    add("lightning_omegaconf_ckpt", formats.torch_zip(d / "last.ckpt", _lightning_data_pkl(False),
                                                      [b"\x00" * 16], prefix="last"))
    add("lightning_attribute_dict_ckpt", formats.torch_zip(d / "epoch3.ckpt", _lightning_data_pkl(True),
                                                           [b"\x00" * 16], prefix="epoch3"))

    d = _dir(root, "benign", "fairseq")
    args = argparse.Namespace(arch="transformer_iwslt_de_en", lr=[0.0005], max_tokens=4096, seed=1)
    torch.save({"args": args, "model": model.state_dict(), "optimizer_history": [
        {"criterion_name": "LabelSmoothedCrossEntropyCriterion", "optimizer_name": "FairseqAdam",
         "lr_scheduler_state": {"best": None}, "num_updates": 10}],
        "extra_state": {"epoch": 1, "val_loss": 3.2}, "last_optimizer_state": optimizer.state_dict()},
        d / "checkpoint_best.pt")
    add("fairseq_checkpoint", d / "checkpoint_best.pt")

    d = _dir(root, "benign", "sklearn_more")
    rng = np.random.default_rng(0)
    x, y = rng.random((40, 4)), np.arange(40) % 2
    pipe = Pipeline([("scale", StandardScaler()), ("pca", PCA(n_components=2)),
                     ("clf", LogisticRegression())])
    joblib.dump(pipe.fit(x, y), d / "pipeline.joblib")
    add("sklearn_pipeline", d / "pipeline.joblib")
    cats = np.array([["a"], ["b"]] * 20, dtype=object)
    column = ColumnTransformer([("onehot", OneHotEncoder(), [0])])
    joblib.dump(column.fit(cats), d / "columns.joblib")
    add("sklearn_column_transformer", d / "columns.joblib")
    from sklearn.preprocessing import FunctionTransformer

    logistic = Pipeline([("log", FunctionTransformer(func=np.log1p)), ("clf", LogisticRegression())])
    joblib.dump(logistic.fit(x, y), d / "log_pipeline.joblib")
    add("sklearn_function_transformer_ufunc", d / "log_pipeline.joblib")
    joblib.dump(HistGradientBoostingClassifier(max_iter=3).fit(x, y), d / "hgb.joblib")
    add("sklearn_hist_gradient_boosting", d / "hgb.joblib")
    for method in ("lzma", "xz", "lz4", "bz2", "gzip"):
        name = f"model_{method}.joblib"
        joblib.dump(pipe, d / name, compress=(method, 3))
        add(f"joblib_compressed_{method}", d / name)

    d = _dir(root, "benign", "chat_templates")
    for model_name, template in templates_real.ALL.items():
        sub = d / model_name
        sub.mkdir()
        (sub / "tokenizer_config.json").write_text(json.dumps({"bos_token": "<s>", "eos_token": "</s>",
                                                               "chat_template": template}, indent=2))
        add(f"chat_template_{model_name}", sub / "tokenizer_config.json")

    d = _dir(root, "benign", "kerashub")
    backbone = {"module": "keras_hub.src.models.gemma.gemma_backbone", "class_name": "GemmaBackbone",
                "config": {"name": "gemma_backbone", "trainable": True, "vocabulary_size": 256000,
                           "num_layers": 2, "num_query_heads": 8, "hidden_dim": 64, "dtype": {
                               "module": "keras", "class_name": "DTypePolicy",
                               "config": {"name": "bfloat16"}, "registered_name": None}},
                "registered_name": "keras_hub>GemmaBackbone"}
    (d / "config.json").write_text(json.dumps(backbone, indent=2))
    add("kerashub_config", d / "config.json")
    (d / "metadata.json").write_text(json.dumps({
        "keras_version": "3.6.0", "keras_hub_version": "0.17.0", "parameter_count": 2000,
        "date_saved": "2026-01-01@00:00:00"}))
    add("kerashub_metadata", d / "metadata.json")
    (d / "tokenizer.json").write_text(json.dumps({
        "module": "keras_hub.src.models.gemma.gemma_tokenizer", "class_name": "GemmaTokenizer",
        "config": {"name": "gemma_tokenizer", "proto": None, "sequence_length": None},
        "registered_name": "keras_hub>GemmaTokenizer"}))
    add("kerashub_tokenizer", d / "tokenizer.json")
    (d / "model.weights.h5").write_bytes(_h5_bytes(None))
    add("kerashub_weights_h5", d / "model.weights.h5")
    activation = {"module": "keras.activations", "class_name": "function", "config": "gelu",
                  "registered_name": "function"}
    dense = {"module": "keras.layers", "class_name": "Dense", "registered_name": None,
             "config": {"name": "dense", "units": 2, "activation": activation}}
    add("keras3_function_reference", _keras_zip(d / "model.keras", [INPUT_LAYER, dense]))

    d = _dir(root, "benign", "tf2_savedmodel")
    add("tf2_savedmodel_saver_ops", tf_formats.savedmodel_folder(d, keras_layers=[
        {"class_name": "Dense", "config": {"name": "dense", "units": 2, "activation": "relu"}}]))
    add("tf2_fingerprint", d / "fingerprint.pb")
    add("tf2_keras_metadata", d / "keras_metadata.pb")
    add("tf2_variables_index", d / "variables" / "variables.index")
    add("tf2_variables_data", d / "variables" / "variables.data-00000-of-00001")

    d = _dir(root, "benign", "repo_assets")
    add("flax_msgpack", _flax_msgpack(d / "flax_model.msgpack"))
    add("readme_png", _png(d / "architecture.png"))
    add("audio_sample_wav", _wav(d / "sample.wav"))
    add("nemo_archive", _nemo(d))
    add("gguf_every_value_type", _gguf_v3_types(d / "model-q8.gguf"))
    # a name in Latin-1, not UTF-8: loaders take it, modelaudit's metadata parser gives up on the file
    add("gguf_modelaudit_cannot_parse", _gguf_v3_types(d / "model-latin1.gguf", "Modèle".encode("latin-1")))
    return out
