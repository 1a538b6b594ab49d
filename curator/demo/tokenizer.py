"""A byte-level tokenizer for the tiny demo models, written out by hand (stdlib only).

Every byte is one token (GPT-2's byte-to-unicode alphabet) and there are no merges, so
any text encodes and the files are the same on every run. ``<|endoftext|>`` is id 0, the
tiny config's bos/eos id. transformers reads ``tokenizer.json`` (fast) or
``vocab.json`` + ``merges.txt`` (slow GPT2Tokenizer) alike.
"""

from __future__ import annotations

import json
from typing import Any

END = "<|endoftext|>"


def _byte_alphabet() -> list[str]:
    """GPT-2's printable stand-in for each byte value, in byte order."""
    printable = {*range(ord("!"), ord("~") + 1), *range(ord("¡"), ord("¬") + 1),
                 *range(ord("®"), ord("ÿ") + 1)}
    chars, extra = {}, 0
    for b in range(256):
        if b in printable:
            chars[b] = chr(b)
        else:
            chars[b] = chr(256 + extra)
            extra += 1
    return [chars[b] for b in range(256)]


def vocab() -> dict[str, int]:
    """``<|endoftext|>`` then the 256 byte tokens: 257 ids, inside the tiny model's 1024."""
    return {END: 0, **{c: i + 1 for i, c in enumerate(_byte_alphabet())}}


def _json(value: object) -> bytes:
    return (json.dumps(value, indent=2, ensure_ascii=False) + "\n").encode()


def tokenizer_json() -> dict[str, Any]:
    """The ``tokenizers`` library's document for a merge-free byte-level BPE."""
    byte_level = {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": True}
    return {
        "version": "1.0", "truncation": None, "padding": None,
        "added_tokens": [{"id": 0, "content": END, "single_word": False, "lstrip": False, "rstrip": False,
                          "normalized": False, "special": True}],
        "normalizer": None, "pre_tokenizer": byte_level, "post_processor": byte_level,
        "decoder": byte_level,
        "model": {"type": "BPE", "dropout": None, "unk_token": None, "continuing_subword_prefix": None,
                  "end_of_word_suffix": None, "fuse_unk": False, "byte_fallback": False,
                  "ignore_merges": False, "vocab": vocab(), "merges": []},
    }


def tokenizer_files() -> dict[str, bytes]:
    """What a model folder carries so lm-eval can score text: fast and slow forms."""
    return {"tokenizer.json": _json(tokenizer_json()), "vocab.json": _json(vocab()),
            "merges.txt": b"#version: 0.2\n"}
