"""Download one hub file in a single pass that writes, hashes and checks it.

Bytes land in a partial folder beside the candidate folder (never inside it, where a repo
file of the same name could collide) and move into the candidate folder only once size,
SHA-256 (LFS) or git blob SHA-1 (regular files) and the served commit match what the hub
declared. A dropped connection resumes with a Range request. A body is read up to its
declared size plus one byte, never further, and within a wall-clock budget per file.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from curator.core.errors import CandidateNotFound, HubUnreachable
from curator.core.evidence.fetch import Problem
from curator.core.hashing import CHUNK, HashingWriter, file_sha256
from curator.core.progress import Progress
from curator.stages.fetch.hub import RemoteFile, transport_errors

if TYPE_CHECKING:
    import httpx2


def partial_dir(files_dir: Path) -> Path:
    """Where downloads in progress live: a sibling of the candidate folder, outside its tree."""
    return files_dir.parent / f"{files_dir.name}.partial"


@dataclass
class Downloaded:
    """One file's outcome: its size and digest, and every way it disagreed with the hub."""

    path: str
    size: int = 0
    sha256: str = ""
    check: str = "size-only"  # lfs-sha256 | git-blob-sha1 | size-only | unchecked
    problems: list[Problem] = field(default_factory=list)
    resumed_from: int = 0

    @property
    def ok(self) -> bool:
        return not self.problems


@dataclass(frozen=True)
class Source:
    """Where and how to fetch: the session, URL builder inputs and limits."""

    session: httpx2.Client
    endpoint: str
    repo_id: str
    commit: str
    headers: dict[str, str]
    max_bytes: int
    retries: int
    timeout: float
    #: wall-clock seconds one file may take, all attempts included
    file_seconds: float = 3600.0
    #: time.monotonic() by which the whole stage must be done
    deadline: float = float("inf")

    def url(self, path: str) -> str:
        from huggingface_hub import hf_hub_url

        return hf_hub_url(self.repo_id, path, revision=self.commit, endpoint=self.endpoint)


def _served_commit(response: httpx2.Response) -> str | None:
    for r in [*response.history, response]:
        commit = r.headers.get("x-repo-commit")
        if commit:
            return str(commit)
    return None


def _linked_etag(response: httpx2.Response) -> str | None:
    for r in [*response.history, response]:
        etag = r.headers.get("x-linked-etag")
        if etag:
            return str(etag).strip('"').removeprefix("W/").strip('"')
    return None


class OverBudget(HubUnreachable):
    """A download ran past its wall-clock budget."""


def check_of(remote: RemoteFile) -> str:
    """What the hub's listing lets us compare a file against."""
    if remote.sha256:
        return "lfs-sha256"
    if remote.blob_id and remote.size is not None:
        return "git-blob-sha1"
    return "size-only" if remote.size is not None else "unchecked"


def fetch_file(source: Source, remote: RemoteFile, files_dir: Path,
               progress: Progress) -> Downloaded:
    """Bring ``remote`` into ``files_dir``, checked; a file already in place is re-verified."""
    final = files_dir / remote.path
    out = Downloaded(remote.path)
    out.check = check_of(remote)
    started = time.monotonic()
    deadline = min(started + source.file_seconds, source.deadline)
    _within(deadline, source, remote.path)
    if final.is_file():  # finished by an earlier, interrupted run: verify instead of re-downloading
        out.size, out.sha256 = file_sha256(final, lambda n: progress.advance(n))
        _compare(out, remote, git_sha1=None, served_commit=source.commit, commit=source.commit,
                 linked_etag=None, git_path=final)
        if out.ok:
            return out
        final.unlink()
        out.problems.clear()
    part = partial_dir(files_dir) / (remote.path + ".part")
    part.parent.mkdir(parents=True, exist_ok=True)
    for attempt in range(source.retries):
        _within(deadline, source, remote.path)
        try:
            writer, served, linked = _stream(source, remote, part, out, progress, deadline)
            break
        except transport_errors() as exc:
            if attempt + 1 == source.retries:
                raise HubUnreachable(
                    f"download of {remote.path} from {source.endpoint} failed "
                    f"{source.retries} times ({exc})",
                    "run the same command again to resume where it stopped") from exc
            time.sleep(min(2.0, 0.2 * 2**attempt))
    out.size, out.sha256 = writer.size, writer.sha256.hexdigest()
    git_sha1 = writer.git_sha1.hexdigest() if writer.git_sha1 else None
    _compare(out, remote, git_sha1, served, source.commit, linked, git_path=None)
    if out.ok:
        final.parent.mkdir(parents=True, exist_ok=True)
        os.replace(part, final)
    else:
        part.unlink(missing_ok=True)  # a bad body is never kept, never promoted
    return out


def _within(deadline: float, source: Source, path: str) -> None:
    if time.monotonic() <= deadline:
        return
    if deadline >= source.deadline:
        raise OverBudget(f"fetching {source.repo_id} from {source.endpoint} ran past the stage's "
                         f"wall-clock budget (fetch.stage_timeout_seconds) at {path!r}",
                         "the hub is too slow or stalling; raise the budget or try again later")
    raise OverBudget(f"download of {path!r} from {source.endpoint} took longer than "
                     f"{source.file_seconds:.0f}s (fetch.file_timeout_seconds)",
                     "the hub is too slow or stalling; raise the budget or try again later")


def _stream(source: Source, remote: RemoteFile, part: Path, out: Downloaded,
            progress: Progress, deadline: float) -> tuple[HashingWriter, str | None, str | None]:
    offset = part.stat().st_size if part.exists() else 0
    headers = dict(source.headers)
    if offset:
        headers["Range"] = f"bytes={offset}-"
    # a stalled read may not outlast the budget either
    timeout = max(0.1, min(source.timeout, deadline - time.monotonic()))
    with source.session.stream("GET", source.url(remote.path), headers=headers,
                               follow_redirects=True, timeout=timeout) as response:
        if response.status_code == 416:  # our partial is already whole or stale: start over
            part.unlink()
            offset = 0
            raise _restart()
        if response.status_code >= 400:
            response.read()
            _raise_for(response, remote.path, source)
        if offset and response.status_code != 206:
            offset = 0
        git_size = remote.size if out.check == "git-blob-sha1" else None
        with open(part, "ab" if offset else "wb") as fh:
            writer = HashingWriter(fh, git_size=git_size)
            if offset:
                writer.absorb_existing(part)
                out.resumed_from = offset
            # one byte past the declared size is enough to know the body is wrong
            limit = source.max_bytes if remote.size is None else min(remote.size, source.max_bytes)
            for chunk in response.iter_bytes():  # as the bytes arrive: the budget is checked each time
                progress.check()
                _within(deadline, source, remote.path)
                chunk = chunk[:limit + 1 - writer.size]
                writer.write(chunk)
                progress.advance(len(chunk))
                if writer.size > limit:
                    if writer.size > source.max_bytes:
                        out.problems.append(Problem("file-too-large", limit=source.max_bytes))
                    break
        return writer, _served_commit(response), _linked_etag(response)


def _raise_for(response: httpx2.Response, path: str, source: Source) -> None:
    """Turn the hub's refusal of one file into a curator error that says what to do."""
    from huggingface_hub import errors, hf_raise_for_status

    try:
        hf_raise_for_status(response)
    except errors.GatedRepoError as exc:
        raise CandidateNotFound(f"{source.repo_id}: the hub refused {path} (gated repo)",
                                "accept its terms on the hub with the account of HF_TOKEN") from exc
    except errors.EntryNotFoundError as exc:
        raise CandidateNotFound(f"{source.repo_id}: the hub lists {path} but does not serve it",
                                "the hub is inconsistent; try again later") from exc
    except errors.HfHubHTTPError as exc:
        raise HubUnreachable(f"{source.repo_id}: the hub answered {response.status_code} for {path}",
                             "try again later") from exc


def _restart() -> Exception:
    import httpx2

    return httpx2.ReadError("partial file did not match the server's; restarting")


def _compare(out: Downloaded, remote: RemoteFile, git_sha1: str | None,
             served_commit: str | None, commit: str, linked_etag: str | None,
             git_path: Path | None) -> None:
    """Record every disagreement between the bytes we have and what the hub declared."""
    if served_commit != commit:
        out.problems.append(Problem("wrong-commit", commit, served_commit or "(none)"))
    if remote.size is not None and out.size != remote.size:
        out.problems.append(Problem("size-mismatch", remote.size, out.size))
    if remote.sha256 and out.sha256 != remote.sha256:
        out.problems.append(Problem("sha256-mismatch", remote.sha256, out.sha256))
    if linked_etag and remote.sha256 and linked_etag != remote.sha256:
        out.problems.append(Problem("etag-mismatch", remote.sha256, linked_etag))
    if out.check == "git-blob-sha1" and remote.blob_id:
        if git_sha1 is None and git_path is not None:
            git_sha1 = _git_blob_sha1(git_path)
        if git_sha1 != remote.blob_id:
            out.problems.append(Problem("git-sha1-mismatch", remote.blob_id, git_sha1))


def _git_blob_sha1(path: Path) -> str:
    import hashlib

    digest = hashlib.sha1(f"blob {path.stat().st_size}\0".encode())
    with open(path, "rb") as fh:
        while chunk := fh.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()
