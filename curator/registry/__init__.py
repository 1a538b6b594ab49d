"""The private registry: an OCI image layout in the workspace, or any OCI registry.

``open_registry`` gives the configured one (``registry.url`` in default.yaml, or
``$CURATOR_REGISTRY``; empty = the workspace layout). ``resolve`` turns a REF a user
typed into a registry and a reference: ``NAME:TAG`` / ``NAME@sha256:HEX`` in the
configured registry, ``HOST[:PORT]/NAME:TAG`` (or ``http(s)://HOST/NAME:TAG``) in that
registry, ``oci:DIR:NAME:TAG`` in that layout folder. Never imports a UI.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from curator.core.errors import UsageError
from curator.registry.interface import Reference, Registry

if TYPE_CHECKING:
    from curator.core.policy import Policy

REGISTRY_ENV = "CURATOR_REGISTRY"
SECTION_KEYS = {"url", "namespace", "retries", "timeout_seconds", "parallel_blobs", "staging"}
LOOPBACK = ("127.", "localhost", "[::1]")


def settings(policy: Policy) -> dict[str, Any]:
    """The ``registry:`` section, with unknown keys refused."""
    section: dict[str, Any] = policy.section("registry")
    unknown = set(section) - SECTION_KEYS
    if unknown:
        raise UsageError(f"checklist section 'registry' has unknown keys {', '.join(sorted(unknown))}",
                         f"use only {', '.join(sorted(SECTION_KEYS))}")
    return section


def _remote(url: str, section: dict[str, Any]) -> Registry:
    from curator.registry.remote import RemoteRegistry

    return RemoteRegistry(url, username=os.environ.get("CURATOR_REGISTRY_USERNAME"),
                          password=os.environ.get("CURATOR_REGISTRY_PASSWORD"),
                          token=os.environ.get("CURATOR_REGISTRY_TOKEN"),
                          retries=int(section.get("retries", 4)),
                          timeout=float(section.get("timeout_seconds", 60)))


def configured_url(policy: Policy, url: str | None = None) -> str:
    """The registry URL in force: an explicit one, ``$CURATOR_REGISTRY``, then the policy's."""
    return url or os.environ.get(REGISTRY_ENV) or str(settings(policy).get("url") or "")


def open_registry(layout_dir: Path, policy: Policy, url: str | None = None) -> Registry:
    """The registry approved models go to: a remote URL if configured, else the layout."""
    chosen = configured_url(policy, url)
    if chosen:
        return _remote(chosen, settings(policy))
    from curator.registry.layout import LayoutRegistry

    return LayoutRegistry(layout_dir)


def open_registries(layout_dir: Path, policy: Policy, urls: list[str] | None = None) -> list[Registry]:
    """Every registry an inventory spans: ``urls`` if given, else the policy's ``registries:``
    list, else the one registry in force. ``workspace`` names the workspace's own layout and
    ``oci:DIR`` another layout folder."""
    from curator.registry.layout import LayoutRegistry

    chosen = [u for u in (urls or []) if u.strip()] or [str(u) for u in (policy.data.get("registries") or [])]
    if not chosen:
        return [open_registry(layout_dir, policy)]
    found: list[Registry] = []
    for text in dict.fromkeys(u.strip() for u in chosen):
        if text == "workspace":
            found.append(LayoutRegistry(layout_dir))
        elif text.startswith("oci:"):
            if not Path(text[4:]).is_dir():
                raise UsageError(f"no OCI layout at {text[4:]}", "check the registry folder (oci:DIR)")
            found.append(LayoutRegistry(Path(text[4:])))
        else:
            found.append(_remote(text, settings(policy)))
    return found


def resolve(text: str, layout_dir: Path, policy: Policy,
            url: str | None = None) -> tuple[Registry, Reference]:
    """A REF as typed -> the registry holding it and the reference inside it."""
    text = text.strip()
    if text.startswith("oci:"):
        from curator.registry.layout import LayoutRegistry

        folder, sep, rest = text[4:].partition(":")
        if not sep or not folder:
            raise UsageError(f"'{text}' is not an OCI layout reference", "use oci:DIR:NAME:TAG")
        if not Path(folder).is_dir():
            raise UsageError(f"no OCI layout at {folder}", "check the folder in the reference")
        return LayoutRegistry(Path(folder)), Reference.parse(rest)
    scheme = ""
    if "://" in text:
        scheme, text = text.split("://", 1)
    first, _, rest = text.partition("/")
    if scheme or (rest and ("." in first or ":" in first or first == "localhost")):
        configured = configured_url(policy, url)
        if not scheme:
            same = configured.split("://", 1)[-1].rstrip("/") == first
            scheme = configured.split("://", 1)[0] if same and "://" in configured else (
                "http" if first.startswith(LOOPBACK) else "https")
        return _remote(f"{scheme}://{first}", settings(policy)), Reference.parse(rest)
    return open_registry(layout_dir, policy, url), Reference.parse(text)
