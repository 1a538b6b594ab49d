"""Upstream changes since approval: a newer revision, a changed model card or license, a
repository that disappeared. Asked of the model's own hub, under a hard time limit.

The questions run in a daemon thread that the caller stops waiting for after the budget:
a black-holed network can hang an HTTP client far past its own timeouts, and a quarterly
review of a thousand models must not hang on one hub. Only the README's text is read
(bounded), never a model file.
"""

from __future__ import annotations

import hashlib
import re
import threading
from typing import TYPE_CHECKING, Any

from curator.stages.fetch.hub import DEFAULT_ENDPOINT

if TYPE_CHECKING:
    from curator.inventory.build import InventoryEntry

#: the card is compared by hash; past this size it is not read at all
MAX_CARD_BYTES = 1 << 20
SHA_RE = re.compile(r"^[0-9a-f]{40}$")


def _license_of(card: bytes) -> str | None:
    """The ``license:`` of a card's YAML front matter, read by the card stage's hardened reader."""
    from curator.stages.card.parse import parse_card

    value = parse_card(card, max_bytes=MAX_CARD_BYTES).metadata.get("license")
    return str(value) if value else None


def _read_card(endpoint: str, repo_id: str, sha: str, timeout: float) -> bytes | None:
    import requests

    url = f"{endpoint}/{repo_id}/resolve/{sha}/README.md"
    with requests.get(url, timeout=(timeout, timeout), stream=True) as resp:
        if resp.status_code == 404:
            return None
        resp.raise_for_status()
        data = b""
        for chunk in resp.iter_content(65536):
            data += chunk
            if len(data) > MAX_CARD_BYTES:
                return data[:MAX_CARD_BYTES]
        return data


def ask_hub(entry: InventoryEntry, card_sha256: str | None, timeout: float) -> dict[str, Any]:
    """What the hub says now. Raises on network trouble (the caller reports it as skipped)."""
    from huggingface_hub import HfApi, errors

    endpoint = (entry.endpoint or DEFAULT_ENDPOINT).rstrip("/")
    wanted = entry.requested_revision if entry.requested_revision and not SHA_RE.match(
        entry.requested_revision) else "main"
    try:
        info = HfApi(endpoint=endpoint).model_info(entry.repo_id, revision=wanted, timeout=timeout)
    except errors.RepositoryNotFoundError:
        return {"outcome": "warn", "message": f"{entry.repo_id} is gone from {endpoint} (deleted, renamed, "
                "made private or gated): the model can no longer be re-fetched", "endpoint": endpoint}
    except errors.RevisionNotFoundError:
        return {"outcome": "warn", "message": f"revision '{wanted}' of {entry.repo_id} no longer exists",
                "endpoint": endpoint}
    newest = str(info.sha or "")
    found: dict[str, Any] = {"endpoint": endpoint, "revision": wanted, "newest": newest,
                             "approved": entry.revision}
    changes = []
    if newest and newest != entry.revision:
        changes.append(f"newer revision {newest[:12]} on '{wanted}' (approved {entry.revision[:12]})")
        card = _read_card(endpoint, entry.repo_id, newest, timeout)
        if card is not None:
            digest = hashlib.sha256(card).hexdigest()
            found["card_sha256"] = digest
            if card_sha256 and digest != card_sha256:
                changes.append("the model card changed")
            license_now = _license_of(card)
            found["license"] = license_now
            if (license_now or "").lower() != (entry.license or "").lower():
                changes.append(f"the license changed from {entry.license or 'none'} to "
                               f"{license_now or 'none'}")
    found["changes"] = changes
    found["outcome"] = "warn" if changes else "ok"
    found["message"] = "; ".join(changes) if changes else f"still the newest on '{wanted}'"
    return found


def upstream_facts(entry: InventoryEntry, card_sha256: str | None, timeout: float) -> dict[str, Any]:
    """``ask_hub`` with a hard wall-clock limit; unreachable or too slow -> ``skipped``."""
    box: dict[str, Any] = {}

    def work() -> None:
        try:
            box["facts"] = ask_hub(entry, card_sha256, timeout)
        except Exception as exc:  # noqa: BLE001 - any network or hub trouble means "could not ask"
            box["error"] = f"{type(exc).__name__}: {exc}"[:300]

    thread = threading.Thread(target=work, name=f"upstream-{entry.repo_id}", daemon=True)
    thread.start()
    thread.join(timeout)
    endpoint = (entry.endpoint or DEFAULT_ENDPOINT).rstrip("/")
    if thread.is_alive():
        return {"outcome": "skipped", "message": f"the hub {endpoint} did not answer within {timeout:g}s",
                "endpoint": endpoint}
    if "error" in box:
        return {"outcome": "skipped", "message": f"could not ask the hub {endpoint}: {box['error']}",
                "endpoint": endpoint}
    facts: dict[str, Any] = box["facts"]
    return facts
