"""What a SLSA provenance statement attests (builder, source repo and commit, build parameters,
dependencies). The card stage reads the facts from the signature stage's evidence
(``curator.stages.card.provenance``), never from this module.
"""

from __future__ import annotations

import json
import re
from typing import Any

#: predicate types read as build provenance
PROVENANCE_TYPES = ("https://slsa.dev/provenance/v1", "https://slsa.dev/provenance/v0.2",
                    "https://slsa.dev/provenance/v0.1")
MAX_TEXT = 200
COMMIT_KEYS = ("gitCommit", "sha1", "sha256")
#: a hub model named by a dependency URI (hf://, pkg:huggingface/, a huggingface.co URL)
MODEL_URI = re.compile(r"^(?:hf://|pkg:huggingface/|https?://(?:www\.)?(?:huggingface\.co|hf\.co)/)"
                       r"(?!datasets/|spaces/)([\w.-]+/[\w.-]+)(?:[@/?#].*)?$", re.IGNORECASE)
#: build parameters that name the model a training run started from
BASE_PARAMETERS = ("base_model", "base_models", "base_model_name_or_path", "model_name_or_path")


def _dict(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _text(value: object, limit: int = MAX_TEXT) -> str:
    text = value if isinstance(value, str) else json.dumps(value, sort_keys=True, default=str)
    return text[:limit]


def _repo(uri: str) -> str:
    """``git+https://github.com/org/repo@refs/heads/main`` -> ``https://github.com/org/repo``."""
    uri = uri.removeprefix("git+")
    return uri.split("@", 1)[0] if "://" in uri and "@" in uri.split("://", 1)[1] else uri


def _dependencies(items: object) -> list[dict[str, Any]]:
    found = []
    for item in items if isinstance(items, list) else []:
        if isinstance(item, dict) and (item.get("uri") or item.get("name")):
            digest = _dict(item.get("digest"))
            found.append({"uri": _text(item.get("uri") or item.get("name")),
                          "digest": {str(k): _text(v, 128) for k, v in list(digest.items())[:4]}})
    return found[:20]


def base_models(deps: list[dict[str, Any]], params: Any) -> list[str]:
    """Hub models the build started from: model dependencies, and base-model build parameters."""
    found = [m.group(1) for d in deps if (m := MODEL_URI.match(str(d.get("uri", ""))))]
    for key in BASE_PARAMETERS:
        value = _dict(params).get(key)
        for item in value if isinstance(value, list) else [value]:
            if isinstance(item, str) and item.strip():
                m = MODEL_URI.match(item.strip())
                found.append(m.group(1) if m else item.strip())
    unique: dict[str, str] = {}
    for name in found:
        unique.setdefault(name.casefold(), _text(name))
    return list(unique.values())[:10]


def provenance_facts(statement: dict[str, Any]) -> dict[str, Any] | None:
    """Builder, build type, source {repo, commit}, parameters and dependencies; None if not SLSA."""
    kind = statement.get("predicateType")
    p = statement.get("predicate")
    if kind not in PROVENANCE_TYPES or not isinstance(p, dict):
        return None
    if kind.endswith("/v1"):
        bd, rd = _dict(p.get("buildDefinition")), _dict(p.get("runDetails"))
        builder = _dict(rd.get("builder")).get("id")
        deps = _dependencies(bd.get("resolvedDependencies"))
        params = bd.get("externalParameters")
        fallback = _dict(_dict(params).get("workflow")).get("repository")
        build_type = bd.get("buildType")
    else:
        builder = _dict(p.get("builder")).get("id")
        invocation = _dict(p.get("invocation"))
        config = _dict(invocation.get("configSource"))
        deps = _dependencies([config] if config.get("uri") else []) + _dependencies(p.get("materials"))
        params = invocation.get("parameters")
        fallback, build_type = None, p.get("buildType")
    source_dep = next((d for d in deps if any(k in d["digest"] for k in COMMIT_KEYS[:2])), None)
    pins = source_dep["digest"] if source_dep else {}
    source = {"repo": _repo(source_dep["uri"]) if source_dep else fallback,
              "commit": next((pins[k] for k in COMMIT_KEYS if k in pins), None)}
    return {"builder": _text(builder) if builder else None,
            "build_type": _text(build_type) if build_type else None, "source": source,
            "parameters": _text(params, 600) if params not in (None, {}, []) else None,
            "dependencies": [d for d in deps if d is not source_dep],
            "base_models": base_models([d for d in deps if d is not source_dep], params)}
