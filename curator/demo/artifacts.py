"""Model files written by hand, byte for byte: safetensors weights and a booby-trapped pickle.

Nothing here imports torch or pickles a live object, and nothing here is ever loaded by
curator. Bytes are deterministic for a given seed, on any Python and any machine.
"""

from __future__ import annotations

import hashlib
import json
import struct
from collections.abc import Mapping
from typing import Any

#: a GPT-2-shaped config small enough for a demo (~1 M parameters, ~4 MB of float32)
TINY_GPT2: dict[str, Any] = {
    "architectures": ["GPT2LMHeadModel"], "model_type": "gpt2", "vocab_size": 1024,
    "n_positions": 128, "n_embd": 128, "n_layer": 4, "n_head": 4, "n_inner": None,
    "activation_function": "gelu_new", "layer_norm_epsilon": 1e-05, "initializer_range": 0.02,
    "resid_pdrop": 0.1, "embd_pdrop": 0.1, "attn_pdrop": 0.1, "bos_token_id": 0, "eos_token_id": 0,
    "tie_word_embeddings": True, "torch_dtype": "float32", "transformers_version": "4.46.0",
}


def gpt2_shapes(config: Mapping[str, Any]) -> dict[str, tuple[int, ...]]:
    """Tensor names and shapes of a GPT2LMHeadModel state dict (Conv1D weights are in x out)."""
    d, v, p = int(config["n_embd"]), int(config["vocab_size"]), int(config["n_positions"])
    inner = int(config.get("n_inner") or 4 * d)
    shapes: dict[str, tuple[int, ...]] = {"transformer.wte.weight": (v, d), "transformer.wpe.weight": (p, d)}
    for i in range(int(config["n_layer"])):
        h = f"transformer.h.{i}."
        shapes.update({
            h + "ln_1.weight": (d,), h + "ln_1.bias": (d,),
            h + "attn.c_attn.weight": (d, 3 * d), h + "attn.c_attn.bias": (3 * d,),
            h + "attn.c_proj.weight": (d, d), h + "attn.c_proj.bias": (d,),
            h + "ln_2.weight": (d,), h + "ln_2.bias": (d,),
            h + "mlp.c_fc.weight": (d, inner), h + "mlp.c_fc.bias": (inner,),
            h + "mlp.c_proj.weight": (inner, d), h + "mlp.c_proj.bias": (d,),
        })
    shapes.update({"transformer.ln_f.weight": (d,), "transformer.ln_f.bias": (d,)})
    return shapes


#: maps a random top byte to sign kept, exponent 120-121: |value| in [2**-7, 2**-5)
_TOP_BYTE = bytes(0x3C | (b & 0x80) for b in range(256))


def random_float32(count: int, seed: str) -> bytes:
    """``count`` little-endian float32 values of random sign and mantissa, magnitude 0.008-0.03.

    Built with byte operations only (no numpy): SHAKE-256 of ``seed`` as the random bytes
    (the same on every Python, forever), then every value's top byte rewritten to pin the
    exponent, which keeps weights small as an initialiser would.
    """
    buf = bytearray(hashlib.shake_256(seed.encode()).digest(4 * count))
    buf[3::4] = buf[3::4].translate(_TOP_BYTE)
    return bytes(buf)


def safetensors_bytes(tensors: Mapping[str, tuple[tuple[int, ...], bytes]],
                      metadata: Mapping[str, str] | None = None) -> bytes:
    """A safetensors file: 8-byte little-endian header length, JSON header, raw F32 data.

    ``tensors`` maps name -> (shape, little-endian float32 bytes). The header is padded
    with spaces to a multiple of 8 bytes, as the reference writer does.
    """
    header: dict[str, Any] = {}
    offset = 0
    for name in sorted(tensors):
        shape, data = tensors[name]
        expected = 4 * _count(shape)
        if len(data) != expected:
            raise ValueError(f"tensor {name}: {len(data)} bytes for shape {shape}, expected {expected}")
        header[name] = {"dtype": "F32", "shape": list(shape), "data_offsets": [offset, offset + len(data)]}
        offset += len(data)
    if metadata:
        header["__metadata__"] = dict(metadata)
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    return struct.pack("<Q", len(text)) + text + b"".join(tensors[n][1] for n in sorted(tensors))


def tiny_gpt2_safetensors(seed: int, config: Mapping[str, Any] = TINY_GPT2) -> bytes:
    """Random weights for ``config`` (layer norms at 1/0, as freshly initialised)."""
    tensors = {}
    for name, shape in gpt2_shapes(config).items():
        if name.endswith(("ln_1.weight", "ln_2.weight", "ln_f.weight")):
            data = struct.pack(f"<{shape[0]}f", *([1.0] * shape[0]))
        elif name.endswith(".bias"):
            data = bytes(4 * shape[0])
        else:
            data = random_float32(_count(shape), f"{seed}:{name}")
        tensors[name] = (shape, data)
    return safetensors_bytes(tensors, {"format": "pt"})


def _count(shape: tuple[int, ...]) -> int:
    count = 1
    for n in shape:
        count *= n
    return count


def _binunicode(text: str) -> bytes:
    raw = text.encode()
    return b"X" + struct.pack("<I", len(raw)) + raw


def reduce_pickle(module: str, name: str, argument: str,
                  key: str = "transformer.wte.weight") -> bytes:
    """A protocol-2 pickle of ``{key: module.name(argument)}``, opcode by opcode.

    Unpickling it would call ``module.name(argument)``: it exists to be caught by the
    scanners. Keep the payload harmless (``os system 'true'``, ``builtins print``).
    Nothing in curator ever loads it.
    """
    if "\n" in module + name:
        raise ValueError("GLOBAL operands cannot contain newlines")
    return b"".join([
        b"\x80\x02",  # PROTO 2
        b"}",  # EMPTY_DICT
        _binunicode(key),  # BINUNICODE: the dict key
        b"c" + module.encode() + b"\n" + name.encode() + b"\n",  # GLOBAL module name
        _binunicode(argument),  # BINUNICODE: the call's argument
        b"\x85",  # TUPLE1
        b"R",  # REDUCE: call module.name(argument)
        b"s",  # SETITEM
        b".",  # STOP
    ])
