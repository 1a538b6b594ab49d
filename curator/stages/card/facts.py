"""Facts the AI-BOM needs from a model folder at card time: the architecture ``config.json``
declares and the contact the card gives.

``config.json`` is read as JSON text (size-capped, never imported or executed): only
``model_type`` and ``architectures`` are kept, as strings. The card's contact lines are
e-mail addresses and ``contact``/``developed by`` lines, quoted with their line numbers.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from curator.core.models import Manifest
from curator.core.text import shown
from curator.stages.card.parse import ParsedCard

CONFIG_NAME = "config.json"
#: a config.json larger than this is not a transformers config; it is not read
MAX_CONFIG_BYTES = 1 << 20
MAX_CONTACTS = 5
_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")
_CONTACT_LINE = re.compile(r"(?i)\b(contact|maintainer|point of contact|developed by|model card authors?)\b")


def architecture(files_dir: Path | None, manifest: Manifest | None) -> dict[str, str]:
    """``architecture_family`` (model_type) and ``model_architecture`` (architectures[0])."""
    if files_dir is None or manifest is None or CONFIG_NAME not in {f.path for f in manifest.files}:
        return {}
    path = files_dir / CONFIG_NAME
    try:
        if path.is_symlink() or path.stat().st_size > MAX_CONFIG_BYTES:
            return {}
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict):
        return {}
    found: dict[str, str] = {}
    if isinstance(data.get("model_type"), str) and data["model_type"].strip():
        found["architecture_family"] = shown(data["model_type"])[:100]
    names = data.get("architectures")
    if isinstance(names, list) and names and isinstance(names[0], str) and names[0].strip():
        found["model_architecture"] = shown(names[0])[:100]
    return found


def contacts(card: ParsedCard) -> list[dict[str, Any]]:
    """Contact lines of the card (e-mail addresses, 'contact:' / 'developed by' lines)."""
    found: list[dict[str, Any]] = []
    for index, line in enumerate(card.lines):
        if index in card.heading_lines or not (_EMAIL.search(line) or _CONTACT_LINE.search(line)):
            continue
        text = shown(re.sub(r"[*_`>#-]+", " ", line)).strip(" :")
        if not text:
            continue
        found.append({"line": card.body_line + index, "text": text[:300], "emails": _EMAIL.findall(line)[:3]})
        if len(found) >= MAX_CONTACTS:
            break
    return found
