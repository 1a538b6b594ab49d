"""Repos of the local hub: ``ROOT/<org>/<name>/``, a plain folder or published commits.

A plain folder is served as one commit on ``main`` whose sha is a sha1 over its tree.
``HubStore.publish`` records real history instead, under the repo's ``.hub/``:
``refs.json`` (branches, tags), ``commits/<sha>.json`` (the full tree of each commit)
and ``blobs/<sha256>`` (content-addressed bytes). Commit ids are derived from tree,
parent and message only, so publishing the same history twice gives the same shas.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from curator.demo.gitobjects import git_blob_sha1, hash_file, is_lfs, lfs_pointer

META = ".hub"
#: directories of a plain folder that are never part of the repo
SKIPPED_DIRS = frozenset({META, ".git", ".cache"})
_SEGMENT = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?")
_HEX = re.compile(r"[0-9a-f]+")
_publish_lock = threading.Lock()
_plain_cache: dict[Path, tuple[Any, Commit]] = {}
_plain_lock = threading.Lock()


def valid_repo_id(repo_id: str) -> bool:
    """``org/name`` with safe segments: nothing that could walk out of the store."""
    parts = repo_id.split("/")
    return len(parts) == 2 and all(_SEGMENT.fullmatch(p) and ".." not in p for p in parts)


def _check_path(path: str) -> None:
    if (not path or path.startswith("/") or "\\" in path or "\x00" in path
            or any(part in ("", ".", "..") for part in path.split("/"))):
        raise ValueError(f"unsafe repo path {path!r}: use a relative path without '..'")


def _iso(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


@dataclass(frozen=True)
class StoredFile:
    """One file of a commit and where its bytes live on disk."""

    path: str
    size: int
    sha256: str
    blob_id: str  # git blob sha1 of what git holds: the content, or the LFS pointer
    lfs: bool
    location: Path

    @property
    def pointer_size(self) -> int:
        return len(lfs_pointer(self.sha256, self.size))


@dataclass(frozen=True)
class Commit:
    """An immutable snapshot of a repo: every file, keyed by its repo path."""

    sha: str
    message: str
    date: str  # ISO 8601, UTC, as the hub writes it
    parent: str | None
    files: Mapping[str, StoredFile]


def _tree_sha(files: Iterable[StoredFile], parent: str | None = None, message: str | None = None) -> str:
    digest = hashlib.sha1(b"tree\n")
    for f in sorted(files, key=lambda f: f.path):
        digest.update(f"{f.path}\0{f.sha256}\n".encode())
    if message is not None:
        digest.update(f"parent {parent or ''}\nmessage {message}\n".encode())
    return digest.hexdigest()


def _describe(path: str, size: int, sha256: str, git_sha1: str, location: Path) -> StoredFile:
    lfs = is_lfs(path, size)
    blob_id = git_blob_sha1(lfs_pointer(sha256, size)) if lfs else git_sha1
    return StoredFile(path, size, sha256, blob_id, lfs, location)


class Repo:
    """One repo of the store; read fresh from disk on every call so publishes show at once."""

    def __init__(self, repo_id: str, path: Path) -> None:
        self.repo_id = repo_id
        self.path = path
        self.meta = path / META

    @property
    def published(self) -> bool:
        return (self.meta / "refs.json").is_file()

    @property
    def settings(self) -> dict[str, Any]:
        """``gated`` (False | "auto" | "manual"), ``private`` and any labels set by configure()."""
        f = self.meta / "repo.json"
        data: dict[str, Any] = json.loads(f.read_text()) if f.is_file() else {}
        return data

    def refs(self) -> dict[str, dict[str, str]]:
        """``{"branches": {name: sha}, "tags": {name: sha}}``."""
        if not self.published:
            return {"branches": {"main": self._plain().sha}, "tags": {}}
        data: dict[str, dict[str, str]] = json.loads((self.meta / "refs.json").read_text())
        return data

    def commit_ids(self) -> list[str]:
        if not self.published:
            return [self._plain().sha]
        return sorted(p.stem for p in (self.meta / "commits").glob("*.json"))

    def commit(self, sha: str) -> Commit | None:
        if not self.published:
            plain = self._plain()
            return plain if plain.sha == sha else None
        record = self.meta / "commits" / f"{sha}.json"
        if not (_HEX.fullmatch(sha) and record.is_file()):
            return None
        data = json.loads(record.read_text())
        files = {p: StoredFile(p, f["size"], f["sha256"], f["blob_id"], f["lfs"],
                               self.meta / "blobs" / f["sha256"]) for p, f in data["files"].items()}
        return Commit(data["id"], data["message"], data["date"], data["parent"], files)

    def resolve(self, revision: str) -> Commit | None:
        """A branch, tag (bare or ``refs/heads/``/``refs/tags/``), full sha or unique prefix >= 7."""
        refs = self.refs()
        for kind, prefix in (("branches", "refs/heads/"), ("tags", "refs/tags/")):
            for name in (revision, revision.removeprefix(prefix)):
                if name in refs[kind]:
                    return self.commit(refs[kind][name])
        if len(revision) >= 7 and _HEX.fullmatch(revision):
            found = [c for c in self.commit_ids() if c.startswith(revision)]
            if len(found) == 1:
                return self.commit(found[0])
        return None

    def blob(self, sha256: str) -> StoredFile | None:
        """Any file of any commit with these bytes (the blob server looks files up this way)."""
        if not _HEX.fullmatch(sha256):
            return None
        if self.published:
            location = self.meta / "blobs" / sha256
            return StoredFile("", location.stat().st_size, sha256, "", True, location) \
                if location.is_file() else None
        return next((f for f in self._plain().files.values() if f.sha256 == sha256), None)

    def _plain(self) -> Commit:
        """The plain folder as one commit, rehashing only when a file's size or mtime moved."""
        found: list[tuple[str, Path, int, int]] = []
        for dirpath, dirnames, filenames in os.walk(self.path):
            rel_dir = os.path.relpath(dirpath, self.path)
            dirnames[:] = sorted(d for d in dirnames if not (rel_dir == "." and d in SKIPPED_DIRS))
            for name in filenames:
                full = Path(dirpath) / name
                if full.is_symlink() or not full.is_file():
                    continue  # a symlink could point anywhere on this machine: never serve it
                st = full.stat()
                rel = full.relative_to(self.path).as_posix()
                found.append((rel, full, st.st_size, st.st_mtime_ns))
        signature = tuple((rel, size, mtime) for rel, _, size, mtime in found)
        with _plain_lock:
            cached = _plain_cache.get(self.path)
            if cached and cached[0] == signature:
                return cached[1]
        files = {}
        for rel, full, _, _ in found:
            size, sha256, sha1 = hash_file(full)
            files[rel] = _describe(rel, size, sha256, sha1, full)
        newest = max((m for *_, m in found), default=0)
        commit = Commit(_tree_sha(files.values()), "plain folder", _iso(datetime.fromtimestamp(
            newest / 1e9, UTC)), None, files)
        with _plain_lock:
            _plain_cache[self.path] = (signature, commit)
        return commit


class HubStore:
    """The repos under ``root``; ``publish`` records new commits on branches and tags."""

    def __init__(self, root: Path | str) -> None:
        self.root = Path(root)

    def repo(self, repo_id: str) -> Repo | None:
        """The repo, or None if the id is malformed or no such folder holds any file."""
        if not valid_repo_id(repo_id):
            return None
        path = self.root / repo_id
        if not path.is_dir() or path.is_symlink():
            return None
        repo = Repo(repo_id, path)
        if not repo.published and not any(p.name not in SKIPPED_DIRS for p in path.iterdir()):
            return None
        return repo

    def repo_ids(self) -> list[str]:
        """Every repo id in the store, sorted."""
        ids = [f"{org.name}/{name.name}" for org in self.root.iterdir() if org.is_dir()
               for name in org.iterdir() if name.is_dir()] if self.root.is_dir() else []
        return sorted(i for i in ids if self.repo(i))

    def configure(self, repo_id: str, **settings: object) -> None:
        """Merge settings into the repo's ``.hub/repo.json`` (``gated="manual"``, ``private=True``...)."""
        if not valid_repo_id(repo_id):
            raise ValueError(f"invalid repo id {repo_id!r}: use ORG/NAME")
        meta = self.root / repo_id / META
        meta.mkdir(parents=True, exist_ok=True)
        current = Repo(repo_id, self.root / repo_id).settings
        _write_json(meta / "repo.json", {**current, **settings})

    def delete(self, repo_id: str) -> None:
        """Remove a repo and all its history."""
        if valid_repo_id(repo_id):
            shutil.rmtree(self.root / repo_id, ignore_errors=True)

    def publish(self, repo_id: str, files: Mapping[str, bytes | Path], branch: str = "main",
                tags: Iterable[str] = (), message: str = "", date: datetime | None = None) -> str:
        """Record a commit whose tree is exactly ``files`` on ``branch`` (moved), tag it, return its sha.

        The commit's parent is the branch's current head. Publishing a tree identical to that
        head with the same message is a no-op that returns the head.
        """
        if not valid_repo_id(repo_id):
            raise ValueError(f"invalid repo id {repo_id!r}: use ORG/NAME")
        meta = self.root / repo_id / META
        with _publish_lock:
            (meta / "blobs").mkdir(parents=True, exist_ok=True)
            (meta / "commits").mkdir(exist_ok=True)
            stored = [self._store_blob(meta / "blobs", path, content) for path, content in files.items()]
            refs_file = meta / "refs.json"
            refs = json.loads(refs_file.read_text()) if refs_file.is_file() else \
                {"branches": {}, "tags": {}}
            parent = refs["branches"].get(branch)
            message = message or f"Upload {len(stored)} files"
            head = Repo(repo_id, self.root / repo_id).commit(parent) if parent else None
            if head and head.message == message and \
                    {p: f.sha256 for p, f in head.files.items()} == {f.path: f.sha256 for f in stored}:
                sha = head.sha
            else:
                sha = _tree_sha(stored, parent, message)
                _write_json(meta / "commits" / f"{sha}.json", {
                    "id": sha, "parent": parent, "message": message,
                    "date": _iso(date or datetime.now(UTC)),
                    "files": {f.path: {"size": f.size, "sha256": f.sha256, "blob_id": f.blob_id,
                                       "lfs": f.lfs} for f in sorted(stored, key=lambda f: f.path)},
                })
            refs["branches"][branch] = sha
            for tag in tags:
                refs["tags"][tag] = sha
            _write_json(refs_file, refs)
        return sha

    @staticmethod
    def _store_blob(blobs: Path, path: str, content: bytes | Path) -> StoredFile:
        _check_path(path)
        if isinstance(content, bytes):
            sha256 = hashlib.sha256(content).hexdigest()
            target = blobs / sha256
            if not target.is_file():
                tmp = blobs / f".{sha256}.{threading.get_ident()}.tmp"
                tmp.write_bytes(content)
                os.replace(tmp, target)
            return _describe(path, len(content), sha256, git_blob_sha1(content), target)
        tmp = blobs / f".incoming.{threading.get_ident()}.tmp"
        size, sha256, sha1 = hash_file(Path(content), copy_to=tmp)
        os.replace(tmp, blobs / sha256)
        return _describe(path, size, sha256, sha1, blobs / sha256)


def _write_json(path: Path, value: object) -> None:
    tmp = path.with_name(f".{path.name}.{threading.get_ident()}.tmp")
    tmp.write_text(json.dumps(value, indent=1, sort_keys=True))
    os.replace(tmp, path)
