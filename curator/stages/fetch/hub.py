"""What the hub says about a repo: the pinned commit and each file's own metadata."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, replace
from typing import Any

from curator.core.errors import CandidateNotFound, HubUnreachable, UsageError
from curator.core.models import Candidate

SHA_RE = re.compile(r"^[0-9a-f]{40}$")
DEFAULT_ENDPOINT = "https://huggingface.co"
TIMEOUT_S = 30.0


@dataclass(frozen=True)
class RemoteFile:
    """One file as the hub describes it: the facts the download is checked against."""

    path: str
    size: int | None
    sha256: str | None  # LFS files only
    blob_id: str | None  # git blob sha1


def transport_errors() -> tuple[type[Exception], ...]:
    """The HTTP client's network-level errors (huggingface_hub 2.x ships httpx2)."""
    import httpx2

    return (httpx2.TransportError,)


def endpoint_of(candidate: Candidate) -> str:
    return (candidate.endpoint or os.environ.get("HF_ENDPOINT") or DEFAULT_ENDPOINT).rstrip("/")


def hf_token_for(endpoint: str) -> str | bool:
    """``HF_TOKEN`` for ``endpoint`` when it is safe to send, else ``False`` (never the env's token).

    Only over https, or plain http to this machine (the local hub): a token sent in clear
    to another host is a token given away. ``False`` also stops huggingface_hub from
    reading the token from the environment or its cache by itself.
    """
    from urllib.parse import urlsplit

    token = os.environ.get("HF_TOKEN")
    if not token:
        return False
    parts = urlsplit(endpoint)
    if parts.scheme == "https" or (parts.scheme == "http" and is_loopback(parts.hostname or "")):
        return token
    return False


def is_loopback(host: str) -> bool:
    """``localhost`` or a loopback address (127.0.0.0/8, ::1)."""
    import ipaddress

    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _api(candidate: Candidate) -> Any:
    from huggingface_hub import HfApi

    endpoint = endpoint_of(candidate)
    return HfApi(endpoint=endpoint, token=hf_token_for(endpoint))


def _model_info(candidate: Candidate, revision: str) -> Any:
    from huggingface_hub import errors

    where = f"{candidate.repo_id} at {endpoint_of(candidate)}"
    try:
        return _api(candidate).model_info(candidate.repo_id, revision=revision,
                                          files_metadata=True, timeout=TIMEOUT_S)
    except errors.GatedRepoError as exc:
        raise CandidateNotFound(f"{where} is gated",
                                "accept its terms on the hub and set HF_TOKEN") from exc
    except errors.RevisionNotFoundError as exc:
        raise CandidateNotFound(f"revision '{revision}' of {where} does not exist",
                                "check the branch, tag or commit") from exc
    except errors.RepositoryNotFoundError as exc:
        raise CandidateNotFound(f"repository {where} does not exist (or needs a token)",
                                "check the name, or set HF_TOKEN for a private repo") from exc
    except errors.HfHubHTTPError as exc:
        raise HubUnreachable(f"the hub {endpoint_of(candidate)} refused {candidate.repo_id} ({exc})",
                             "check --endpoint and try again") from exc
    except OSError as exc:
        raise HubUnreachable(f"cannot reach the hub {endpoint_of(candidate)} ({exc})",
                             "check the network or --endpoint and try again") from exc
    except Exception as exc:
        if not isinstance(exc, transport_errors()):
            raise
        raise HubUnreachable(f"cannot reach the hub {endpoint_of(candidate)} ({exc})",
                             "check the network or --endpoint and try again") from exc


def pin(candidate: Candidate) -> Candidate:
    """Resolve the revision (branch, tag, short or full sha) to the full commit sha."""
    if "/" not in candidate.repo_id or candidate.repo_id.count("/") > 1:
        raise UsageError(f"'{candidate.repo_id}' is not a hub repo id",
                         "use ORG/NAME, or a path to a local folder")
    info = _model_info(candidate, candidate.revision)
    sha = str(info.sha or "")
    if not SHA_RE.match(sha):
        raise HubUnreachable(f"the hub {endpoint_of(candidate)} gave no commit for "
                             f"{candidate.repo_id}@{candidate.revision}", "check --endpoint")
    if getattr(info, "gated", False) and not os.environ.get("HF_TOKEN"):
        raise CandidateNotFound(f"{candidate.repo_id} at {endpoint_of(candidate)} is gated",
                                "accept its terms on the hub, then set HF_TOKEN")
    if SHA_RE.match(candidate.revision) and sha != candidate.revision:
        raise CandidateNotFound(f"the hub pinned {candidate.repo_id}@{candidate.revision} to "
                                f"another commit {sha}", "check the revision")
    return replace(candidate, commit=sha)


def remote_files(candidate: Candidate) -> list[RemoteFile]:
    """Every file of the pinned commit with the hub's own size and digests."""
    assert candidate.commit, "pin the candidate first"
    info = _model_info(candidate, candidate.commit)
    if info.sha != candidate.commit:
        raise HubUnreachable(f"the hub answered commit {info.sha} for pinned {candidate.commit}",
                             "the hub is inconsistent; try again later")
    files = []
    for sibling in info.siblings or []:
        lfs = sibling.lfs
        files.append(RemoteFile(
            path=sibling.rfilename,
            size=(lfs.size if lfs else None) or sibling.size,
            sha256=lfs.sha256 if lfs else None,
            blob_id=sibling.blob_id,
        ))
    return files
