"""Signed per-file digests against the bytes at hand: the fetch manifest, or the folder on disk.

A signed file is never hidden by an ignore path: if it is there it is compared, if it
is gone it is missing. Ignore paths only excuse files the signature does not name.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from curator.core.hashing import hash_files
from curator.stages.signature.verify import SignedStatement

#: model-signing always leaves these out of what it hashes (hashing.Config default)
GIT_PATHS = (".git", ".gitattributes", ".github", ".gitignore")
STATES = ("match", "mismatch", "missing", "unsigned", "ignored")


@dataclass(frozen=True)
class FileCheck:
    """One row of the digest comparison table."""

    path: str
    state: str  # match | mismatch | missing | unsigned | ignored
    signed_sha256: str | None = None
    manifest_sha256: str | None = None
    #: ``algorithm:hex`` when the signature used another hash than SHA-256 (or shards),
    #: with the folder's digest the same way when they differ
    signed_digest: str | None = None
    actual_digest: str | None = None

    def to_dict(self) -> dict[str, Any]:
        optional = ("signed_digest", "actual_digest")
        return {k: v for k, v in asdict(self).items() if v is not None or k not in optional}

    def difference(self) -> str:
        """Which bytes differ, in words: whole-file digests, or the shards that changed."""
        if self.signed_sha256:
            return f"signed SHA-256 {self.signed_sha256}, now {self.manifest_sha256 or 'different bytes'}"
        signed = (self.signed_digest or "").split(":", 1)
        if " " not in signed[-1] and "-" not in signed[-1].split(":")[0]:
            return f"signed {self.signed_digest}, now {self.actual_digest}"
        old = dict(part.split(":", 1) for part in signed[-1].split())
        new = dict(part.split(":", 1) for part in (self.actual_digest or "").split())
        changed = [r for r in sorted(set(old) | set(new), key=lambda r: int(r.split("-")[0]))
                   if old.get(r) != new.get(r)]
        def short(digest: str | None) -> str:
            return f"{digest[:16]}…" if digest else "absent"

        shown = ", ".join(f"bytes {r} (signed {short(old.get(r))}, now {short(new.get(r))})"
                          for r in changed[:3])
        more = f" and {len(changed) - 3} more shard(s)" if len(changed) > 3 else ""
        return f"{signed[0]} shards differ: {shown}{more}"


def is_ignored(path: str, ignore_paths: Iterable[str]) -> bool:
    """True if ``path`` is one of ``ignore_paths`` or lies under one of them (a folder)."""
    for raw in ignore_paths:
        ignore = raw.strip("/")
        if ignore and (path == ignore or path.startswith(ignore + "/")):
            return True
    return False


def effective_ignores(statement: SignedStatement, extra: Iterable[str],
                      signature_rel: str | None) -> list[str]:
    """The signer's own ignore list, the reviewer's, git's, and the signature file itself."""
    paths = set(statement.signed_ignore_paths) | {p.strip("/") for p in extra if p.strip("/")}
    paths |= set(GIT_PATHS)
    if signature_rel:
        paths.add(signature_rel)
    return sorted(paths)


def per_file_sha256(statement: SignedStatement) -> bool:
    """True when the statement signs whole files with SHA-256: comparable with a manifest as is."""
    return (statement.serialization.get("method") == "files"
            and all(r.algorithm == "sha256" for r in statement.resources))


def compare(statement: SignedStatement, actual: dict[str, str | None], ignore_paths: list[str],
            manifest: dict[str, str] | None = None) -> list[FileCheck]:
    """Compare signed digests with ``actual`` (file -> digest in the signer's algorithm).

    ``actual`` maps an ignored folder (``name/``) to None: it was not walked. ``manifest``
    (file -> SHA-256 hex) fills the manifest column and adds the files it lists.
    """
    sha256_files = per_file_sha256(statement)
    manifest = manifest if manifest is not None else (
        {k: v for k, v in actual.items() if v is not None} if sha256_files else {})
    signed = signed_files(statement)
    rows = []
    for path in sorted(set(signed) | set(actual) | set(manifest)):
        algorithm, digest = signed.get(path, ("", ""))
        row: dict[str, Any] = {"manifest_sha256": manifest.get(path)}
        if algorithm == "sha256" and sha256_files:
            row["signed_sha256"] = digest
        elif algorithm:
            row["signed_digest"] = f"{algorithm}:{digest}"
        if not algorithm:
            state = "ignored" if is_ignored(path, ignore_paths) else "unsigned"
        elif path not in actual or actual[path] is None:
            state = "missing"
        else:
            state = "match" if actual[path] == digest else "mismatch"
            if state == "mismatch" and "signed_digest" in row:
                row["actual_digest"] = actual[path]
        rows.append(FileCheck(path, state, **row))
    return rows


def signed_files(statement: SignedStatement) -> dict[str, tuple[str, str]]:
    """file -> (algorithm, digest); a sharded file's shard digests are joined in offset order."""
    if statement.serialization.get("method") != "shards":
        return {r.name: (r.algorithm, r.digest) for r in statement.resources}
    algorithm = statement.resources[0].algorithm if statement.resources else ""
    return {path: (algorithm, digest)
            for path, digest in join_shards({r.name: r.digest for r in statement.resources}).items()}


def join_shards(items: dict[str, str]) -> dict[str, str]:
    """``path:start:end`` -> digest, as file -> ``start-end:digest ...`` (one value per file)."""
    files: dict[str, list[tuple[int, int, str]]] = {}
    for name, digest in items.items():
        path, start, end = name.rsplit(":", 2)
        files.setdefault(path, []).append((int(start), int(end), digest))
    return {p: " ".join(f"{s}-{e}:{d}" for s, e, d in sorted(v)) for p, v in files.items()}


def disk_sha256(folder: Path, ignore_paths: list[str],
                allow_symlinks: bool = False) -> dict[str, str | None]:
    """SHA-256 of every file under ``folder``, hashed in parallel.

    Ignored files are hashed too (a signed file is compared even if ignored, and weights in
    an ignored folder must be seen); only an ignored ``.git`` folder is not walked and shows
    as ``.git/`` -> None. Symlinks are
    followed only when the signer allowed them and only inside the folder; any other
    symlink, and any entry that is not a regular file (FIFO, socket, device), gets an
    empty digest, so it can never match and is never silently left out.
    """
    root = folder.resolve()
    paths: dict[str, Path] = {}
    out: dict[str, str | None] = {}
    for dirpath, dirnames, filenames in os.walk(folder):
        rel_dir = Path(dirpath).relative_to(folder).as_posix()
        rel_dir = "" if rel_dir == "." else rel_dir + "/"
        skipped = [d for d in dirnames if d == ".git" and is_ignored(rel_dir + d, ignore_paths)]
        out.update({f"{rel_dir}{d}/": None for d in skipped})
        dirnames[:] = sorted(d for d in dirnames if d not in skipped)
        for name in sorted(filenames + [d for d in dirnames if Path(dirpath, d).is_symlink()]):
            rel = rel_dir + name
            path = Path(dirpath, name)
            if path.is_symlink():
                target = path.resolve()
                if not (allow_symlinks and target.is_file() and target.is_relative_to(root)):
                    out[rel] = ""
                    continue
            if path.is_file():
                paths[rel] = path
            else:  # a FIFO, socket or device: nothing the signer hashed, never a match
                out[rel] = ""
    hashed = hash_files(paths.values())
    out.update({rel: hashed[p][1] for rel, p in paths.items()})
    return out


def file_names(folder: Path) -> set[str]:
    """Every entry under ``folder`` that is not a folder (a git checkout's ``.git`` left out)."""
    found = set()
    for dirpath, dirnames, filenames in os.walk(folder):
        rel_dir = Path(dirpath).relative_to(folder).as_posix()
        rel_dir = "" if rel_dir == "." else rel_dir + "/"
        links = [d for d in dirnames if Path(dirpath, d).is_symlink()]
        dirnames[:] = [d for d in dirnames if d != ".git" and d not in links]
        found |= {rel_dir + name for name in filenames + links}
    return found


def model_signing_digests(folder: Path, statement: SignedStatement,
                          ignore_paths: list[str]) -> dict[str, str | None]:
    """Re-serialise the folder the way the signer did (other hashes, shards): identifier -> hex."""
    from model_signing import hashing as signing_hashing

    hashing: Any = signing_hashing  # its Config() is unannotated

    args = statement.serialization
    allow = bool(args.get("allow_symlinks", False))
    if args.get("method") == "shards":
        config = hashing.Config().use_shard_serialization(
            hashing_algorithm=args["hash_type"], shard_size=int(args["shard_size"]), allow_symlinks=allow)
    elif args.get("method") == "files":
        config = hashing.Config().use_file_serialization(hashing_algorithm=args["hash_type"],
                                                         allow_symlinks=allow)
    else:
        raise ValueError(f"unknown serialization method {args.get('method')!r}")
    config.set_ignored_paths(paths=ignore_paths, ignore_git_paths=True)
    manifest = config.hash(folder)
    digests = {str(rd.identifier): rd.digest.digest_hex for rd in manifest.resource_descriptors()}
    return dict(join_shards(digests)) if args.get("method") == "shards" else dict(digests)
