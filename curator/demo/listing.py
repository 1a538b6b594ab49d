"""The JSON documents of the hub API, shaped as huggingface_hub 2.4 parses them.

``model_info`` (``/api/models/{repo}[/revision/{rev}]``), ``tree_entries``
(``/api/models/{repo}/tree/{rev}[/{path}]``) and ``refs`` (``/api/models/{repo}/refs``).
The faults that lie about the file list (extra entries, wrong sizes) are applied here.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from curator.demo.faults import Faults, hits
from curator.demo.gitobjects import git_blob_sha1
from curator.demo.store import Commit, Repo, StoredFile

CARD = "README.md"
_SMALL = 1 << 20  # cards and configs bigger than this are not parsed for metadata


def card_data(commit: Commit) -> dict[str, Any] | None:
    """The YAML front matter of the commit's README.md, read by the card stage's hardened reader."""
    from curator.stages.card.parse import parse_card

    card = commit.files.get(CARD)
    if card is None or card.size > _SMALL:
        return None
    metadata = parse_card(card.location.read_bytes(), CARD, _SMALL).metadata
    return metadata if isinstance(metadata, dict) and metadata else None


def _config(commit: Commit) -> dict[str, Any] | None:
    config = commit.files.get("config.json")
    if config is None or config.size > _SMALL:
        return None
    try:
        data = json.loads(config.location.read_bytes())
    except (ValueError, UnicodeDecodeError):
        return None
    if not isinstance(data, dict):
        return None
    return {k: data[k] for k in ("architectures", "model_type") if k in data}


def _tags(card: dict[str, Any], config: dict[str, Any] | None, commit: Commit) -> list[str]:
    tags = [str(t) for t in card.get("tags") or [] if isinstance(t, str | int)]
    library = card.get("library_name") or ("transformers" if config is not None else None)
    names = list(commit.files)
    tags += [str(library)] if library else []
    tags += ["safetensors"] if any(n.endswith(".safetensors") for n in names) else []
    tags += ["pytorch"] if any(n.endswith((".bin", ".pt", ".pth")) for n in names) else []
    tags += [str(config["model_type"])] if config and config.get("model_type") else []
    for key, prefix in (("license", "license:"), ("datasets", "dataset:"), ("base_model", "base_model:")):
        value = card.get(key)
        tags += [prefix + str(v) for v in (value if isinstance(value, list) else [value]) if v]
    return list(dict.fromkeys(tags))


def _declared(f: StoredFile, faults: Faults) -> int:
    return faults.declared_size.get(f.path, f.size)


def _sibling(f: StoredFile, faults: Faults, blobs: bool) -> dict[str, Any]:
    doc: dict[str, Any] = {"rfilename": f.path}
    if blobs and not hits(faults.bare_listing, f.path):
        size = _declared(f, faults)
        doc.update(blobId=f.blob_id, size=size)
        if f.lfs:
            doc["lfs"] = {"sha256": f.sha256, "size": size, "pointerSize": f.pointer_size}
    return doc


def _extra(faults: Faults) -> list[tuple[str, int, str]]:
    """The injected entries: (path, size, blob id)."""
    return [(p, len(b), git_blob_sha1(b)) for p, b in faults.extra_files.items()]


def _first_date(repo: Repo, commit: Commit) -> str:
    node, seen = commit, 0
    while node.parent and seen < 10_000:
        parent = repo.commit(node.parent)
        if parent is None:
            break
        node, seen = parent, seen + 1
    return node.date


def model_info(repo: Repo, commit: Commit, faults: Faults, blobs: bool,
               expand: list[str]) -> dict[str, Any]:
    """``ModelInfo`` JSON; with ``expand``, only those properties (plus ids), as the Hub does."""
    card = card_data(commit)
    config = _config(commit)
    settings = repo.settings
    org = repo.repo_id.split("/")[0]
    siblings = [_sibling(commit.files[p], faults, blobs) for p in sorted(commit.files)]
    for path, size, blob_id in _extra(faults):
        siblings.append({"rfilename": path, **({"blobId": blob_id, "size": size} if blobs else {})})
    doc: dict[str, Any] = {
        "_id": hashlib.sha1(repo.repo_id.encode()).hexdigest()[:24],
        "id": repo.repo_id, "modelId": repo.repo_id, "author": org, "sha": commit.sha,
        "lastModified": commit.date, "createdAt": _first_date(repo, commit),
        "private": bool(settings.get("private", False)), "gated": settings.get("gated", False),
        "disabled": False, "downloads": 0, "likes": 0,
        "library_name": (card or {}).get("library_name") or ("transformers" if config is not None else None),
        "tags": _tags(card or {}, config, commit), "pipeline_tag": (card or {}).get("pipeline_tag"),
        "siblings": siblings, "spaces": [],
        "usedStorage": sum(f.size for f in commit.files.values()),
    }
    if card is not None:
        doc["cardData"] = card
    if config is not None:
        doc["config"] = config
    if expand:
        doc = {k: v for k, v in doc.items() if k in expand or k in ("_id", "id")}
    return doc


def _last_commits(repo: Repo, commit: Commit) -> dict[str, Commit]:
    """For each file, the newest commit that changed it (walking first parents)."""
    found: dict[str, Commit] = {}
    pending = set(commit.files)
    node: Commit | None = commit
    while node is not None and pending:
        parent = repo.commit(node.parent) if node.parent else None
        for path in list(pending):
            before = parent.files.get(path) if parent else None
            if before is None or before.sha256 != node.files[path].sha256:
                found[path] = node
                pending.discard(path)
        node = parent
    return found


def _last_commit_doc(commit: Commit) -> dict[str, str]:
    return {"id": commit.sha, "title": commit.message, "date": commit.date}


def tree_entries(repo: Repo, commit: Commit, path: str, recursive: bool, expand: bool,
                 faults: Faults) -> list[dict[str, Any]] | None:
    """The entries under ``path`` (files and folders), sorted; None if ``path`` is no folder."""
    prefix = f"{path.strip('/')}/" if path.strip("/") else ""
    under = {p: f for p, f in commit.files.items() if p.startswith(prefix)}
    if prefix and not under:
        return None
    folders: dict[str, list[str]] = {}
    entries: list[dict[str, Any]] = []
    for p, f in under.items():
        parts = p[len(prefix):].split("/")
        for depth in range(1, len(parts)):
            folders.setdefault(prefix + "/".join(parts[:depth]), []).append(f"{p}\0{f.blob_id}")
        if recursive or len(parts) == 1:
            size = _declared(f, faults)
            entry: dict[str, Any] = {"type": "file", "oid": f.blob_id, "size": size, "path": p}
            if f.lfs:
                entry["lfs"] = {"oid": f.sha256, "size": size, "pointerSize": f.pointer_size}
            entries.append(entry)
    if recursive or not prefix:  # injected names are listed as they are, never split into folders
        entries += [{"type": "file", "oid": oid, "size": size, "path": p} for p, size, oid in _extra(faults)]
    for folder, members in folders.items():
        if recursive or "/" not in folder[len(prefix):]:
            oid = hashlib.sha1("\n".join([folder, *sorted(members)]).encode()).hexdigest()
            entries.append({"type": "directory", "oid": oid, "size": 0, "path": folder})
    if expand:
        last = _last_commits(repo, commit)
        for entry in entries:
            entry["lastCommit"] = _last_commit_doc(last.get(entry["path"], commit))
    return sorted(entries, key=lambda e: str(e["path"]))


def refs(repo: Repo, include_prs: bool) -> dict[str, Any]:
    """``GitRefs`` JSON; branches named ``refs/pr/N`` are the pull requests."""
    known = repo.refs()

    def ref(kind: str, name: str, sha: str) -> dict[str, str]:
        full = name if name.startswith("refs/") else f"refs/{kind}/{name}"
        return {"name": name, "ref": full, "targetCommit": sha}

    branches = known["branches"]
    doc: dict[str, Any] = {
        "branches": [ref("heads", n, s) for n, s in sorted(branches.items()) if not n.startswith("refs/pr/")],
        "converts": [],
        "tags": [ref("tags", n, s) for n, s in sorted(known["tags"].items())],
    }
    if include_prs:
        doc["pullRequests"] = [ref("heads", n, s) for n, s in sorted(branches.items())
                               if n.startswith("refs/pr/")]
    return doc
