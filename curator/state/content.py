"""What the signed targets say, in the curator's language, and the changes a curator signs.

Targets list every approved model as ``NAME@sha256:HEX`` (hash and length of the OCI
manifest; ``custom``: decisions, approvers, waivers, conditions). The rest lives in the
targets' own ``x-curator`` field, signed with them: per name the production pointer and
the tags, the digests retired and rejected (who, when, why: kept for ever, so a digest
cannot come back by being left out), and the ledger head this version was signed at.

A swap across names (B approved with ``--replaces A:prod``) hands A's production over: A's
pointer is withdrawn with a ``replaced`` record (by which target, who, when, why) and B's entry
says what it ``replaces``; rolling that swap back puts A's pointer back and withdraws B's with a
``rolled_back`` record, in one signed version.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

from tuf.api.metadata import TargetFile, Targets

from curator.core.errors import DecisionRefused

EXTENSION = "x-curator"
RETIRED, REJECTED = "retired", "rejected"


def target_path(name: str, digest: str) -> str:
    """The TUF target path of one model artifact."""
    return f"{name}@{digest}"


def _ext(targets: Targets) -> dict[str, Any]:
    ext: dict[str, Any] = targets.unrecognized_fields.setdefault(EXTENSION, {})
    for key in ("names", RETIRED, REJECTED):
        ext.setdefault(key, {})
    return ext


@dataclass(frozen=True)
class Record:
    """Why a digest left the approved set: who, when, why."""

    kind: str  # retired | rejected
    name: str
    digest: str
    who: str
    when: str
    why: str

    @property
    def line(self) -> str:
        return f"{self.kind} on {self.when[:10]} by {self.who}: {self.why}"


@dataclass(frozen=True)
class Resolution:
    """A reference resolved through the signed state: the digest, or why there is none."""

    digest: str | None
    target: TargetFile | None
    code: str = ""  # unknown-target | retired | rejected | not-in-production
    message: str = ""


class SignedState:
    """A read-only view of one verified targets version."""

    def __init__(self, targets: Targets, production_tag: str = "prod") -> None:
        self.targets = targets
        self.production_tag = production_tag
        self._ext = copy.deepcopy(targets.unrecognized_fields.get(EXTENSION) or {})

    @property
    def version(self) -> int:
        return self.targets.version

    def approved(self) -> dict[str, TargetFile]:
        return dict(self.targets.targets)

    def names(self) -> dict[str, dict[str, Any]]:
        return dict(self._ext.get("names") or {})

    def production(self, name: str) -> str | None:
        value = (self.names().get(name) or {}).get("production")
        return str(value) if value else None

    def replaced(self, name: str) -> dict[str, Any] | None:
        """How ``name``'s production was handed to another name by a swap, while it still is."""
        found = (self.names().get(name) or {}).get("replaced")
        return dict(found) if isinstance(found, dict) else None

    def replaces(self, name: str) -> dict[str, Any] | None:
        """The production ``name`` took over from another name (``{name, digest, by}``), if any."""
        found = (self.names().get(name) or {}).get("replaces")
        return dict(found) if isinstance(found, dict) else None

    def _withdrawn(self, name: str, tag: str) -> Resolution | None:
        """``NAME:prod`` withdrawn by a swap across names, or by rolling such a swap back."""
        entry = self.names().get(name) or {}
        for key, code, how in (("replaced", "replaced", "replaced"),
                               ("rolled_back", "rolled-back", "rolled back")):
            found = entry.get(key)
            if isinstance(found, dict):
                other = str(found.get("by") or found.get("to") or "?")
                return Resolution(str(found.get("digest")), None, code,
                                  f"{name}:{tag} ({found.get('digest')}) was {how} on "
                                  f"{str(found.get('when'))[:10]} by {found.get('who')}: {found.get('why')}; "
                                  "production is now "
                                  f"{other.split('@', 1)[0]}:{tag} ({other.split('@', 1)[-1]})")
        return None

    def tags(self, name: str) -> dict[str, str]:
        return {str(k): str(v) for k, v in ((self.names().get(name) or {}).get("tags") or {}).items()}

    def record(self, name: str, digest: str) -> Record | None:
        """The retirement or rejection of ``name@digest`` (a rejection wins if both)."""
        path = target_path(name, digest)
        for kind in (REJECTED, RETIRED):
            found = (self._ext.get(kind) or {}).get(path)
            if found:
                return Record(
                    kind,
                    name,
                    digest,
                    str(found.get("who", "?")),
                    str(found.get("when", "?")),
                    str(found.get("why", "")),
                )
        return None

    def _removed_tag(self, name: str, tag: str) -> Record | None:
        """The latest retirement or rejection that took ``tag`` away from ``name``."""
        found = None
        for kind in (RETIRED, REJECTED):
            for path, entry in (self._ext.get(kind) or {}).items():
                if path.startswith(name + "@") and tag in (entry.get("tags") or []):
                    record = self.record(name, path.split("@", 1)[1])
                    if record is not None and (found is None or record.when > found.when):
                        found = record
        return found

    def records(self, kind: str) -> list[Record]:
        out = []
        for path in sorted(self._ext.get(kind) or {}):
            name, digest = path.split("@", 1)
            found = self.record(name, digest)
            if found is not None:
                out.append(found)
        return out

    @property
    def ledger(self) -> dict[str, Any] | None:
        value = self._ext.get("ledger")
        return dict(value) if isinstance(value, dict) else None

    def resolve(self, name: str, tag: str | None = None, digest: str | None = None) -> Resolution:
        """``NAME:TAG`` or ``NAME@DIGEST`` through the signed state, never the registry's tag."""
        if digest is None:
            digest = self.production(name) if tag == self.production_tag else self.tags(name).get(tag or "")
            if digest is None:
                # a swap's hand-over is newer than any removal that once took the tag away
                withdrawn = self._withdrawn(name, tag or "") if tag == self.production_tag else None
                if withdrawn is not None:
                    return withdrawn
                gone = self._removed_tag(name, tag or "")
                if gone is not None:
                    return Resolution(
                        gone.digest, None, gone.kind, f"{name}:{tag} ({gone.digest}) was {gone.line}"
                    )
                what = "nothing in production" if tag == self.production_tag else f"no tag '{tag}'"
                return Resolution(
                    None,
                    None,
                    "unknown-target",
                    f"the signed state (targets v{self.version}) has {what} for {name}",
                )
        target = self.targets.targets.get(target_path(name, digest))
        record = self.record(name, digest)
        if record is not None:
            return Resolution(digest, None, record.kind, f"{name}@{digest} was {record.line}")
        if target is None:
            return Resolution(
                digest,
                None,
                "unknown-target",
                f"{name}@{digest} is not approved in the signed state (targets v{self.version})",
            )
        return Resolution(digest, target)

    def to_dict(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "expires": self.targets.expires.isoformat(),
            "approved": [
                {
                    "target": path,
                    "length": t.length,
                    "sha256": t.hashes.get("sha256"),
                    "custom": t.unrecognized_fields.get("custom", {}),
                }
                for path, t in sorted(self.targets.targets.items())
            ],
            "names": self.names(),
            "retired": [r.__dict__ for r in self.records(RETIRED)],
            "rejected": [r.__dict__ for r in self.records(REJECTED)],
            "ledger": self.ledger,
        }


# -- changes: each edits a targets object about to be signed ---------------------------------


def approve(
    targets: Targets, name: str, digest: str, length: int, tag: str, custom: dict[str, Any], production: bool
) -> None:
    """Add an approved artifact; ``production`` also points the name's production at it."""
    path = target_path(name, digest)
    ext = _ext(targets)
    for kind in (REJECTED, RETIRED):
        if path in ext[kind] and isinstance(custom.get("supersedes"), dict):
            # an approval that signed why it overrides the rejection (--supersede): the record
            # moves to the signed history, so it is never lost
            ext.setdefault("superseded", {})[path] = {**ext[kind].pop(path), "kind": kind,
                                                      "superseded_by": custom.get("review_id"),
                                                      "reason": custom["supersedes"].get("reason")}
        if path in ext[kind]:
            record = ext[kind][path]
            raise DecisionRefused(
                f"{path} was {kind} on {str(record.get('when'))[:10]} by {record.get('who')}: "
                f"{record.get('why')}",
                "a retired or rejected artifact never comes back; review a new revision",
            )
    targets.targets[path] = TargetFile(length, {"sha256": digest.split(":", 1)[1]}, path, {"custom": custom})
    entry = ext["names"].setdefault(name, {"tags": {}, "production": None})
    entry["tags"][tag] = digest
    if production:
        _move(entry, digest, "promote")


def remove(
    targets: Targets,
    name: str,
    digest: str,
    kind: str,
    who: str,
    when: str,
    why: str,
    production_tag: str = "prod",
) -> None:
    """Retire or reject ``name@digest``: out of the approved set, its tags and production."""
    path = target_path(name, digest)
    ext = _ext(targets)
    targets.targets.pop(path, None)
    entry = ext["names"].get(name) or {"tags": {}, "production": None}
    # the tags it held are kept with the record, so NAME:TAG says why it is gone
    tags = sorted(t for t, d in entry["tags"].items() if d == digest)
    if entry.get("production") == digest:
        tags.append(production_tag)
        entry["production"] = None
    entry["tags"] = {t: d for t, d in entry["tags"].items() if d != digest}
    ext[kind][path] = {"who": who, "when": when, "why": why, "tags": tags}


def record_signer(targets: Targets, name: str, digest: str, kind: str, email: str) -> None:
    """Add who signed a retirement or rejection (the e-mail of its curator) to its record."""
    _ext(targets)[kind][target_path(name, digest)]["email"] = email


def promote(targets: Targets, name: str, digest: str, action: str = "rollback") -> str | None:
    """Point ``name``'s production at an approved digest; returns the previous one."""
    path = target_path(name, digest)
    ext = _ext(targets)
    for kind in (REJECTED, RETIRED):
        if path in ext[kind]:
            record = ext[kind][path]
            raise DecisionRefused(
                f"{path} was {kind} on {str(record.get('when'))[:10]} by {record.get('who')}: "
                f"{record.get('why')}",
                "choose another approved artifact",
            )
    if path not in targets.targets:
        raise DecisionRefused(f"{path} is not approved in the signed state", "choose an approved artifact")
    entry = ext["names"].setdefault(name, {"tags": {}, "production": None})
    previous = entry.get("production")
    _move(entry, digest, action)
    return str(previous) if previous else None


def hand_over(targets: Targets, name: str, digest: str, to_name: str, to_digest: str,
              who: str, when: str, why: str) -> bool:
    """A swap across names: ``to_name@to_digest`` (already approved and in production) takes
    over from ``name@digest``; False (nothing changed) when that is not in production now."""
    ext = _ext(targets)
    entry = ext["names"].get(name)
    if not entry or entry.get("production") != digest:
        return False
    by = target_path(to_name, to_digest)
    entry["production"] = None
    entry["replaced"] = {"digest": digest, "by": by, "who": who, "when": when, "why": why}
    entry.setdefault("history", []).append({"action": "replaced", "digest": None, "by": by})
    ext["names"][to_name]["replaces"] = {"name": name, "digest": digest, "by": to_digest}
    return True


def undo_swap(targets: Targets, name: str, digest: str, from_name: str, from_digest: str,
              who: str, when: str, why: str, production_tag: str = "prod") -> None:
    """Roll back a swap across names: ``name@digest`` back into production, ``from_name``'s
    production (``from_digest``, the model that took over) withdrawn. Refused when either
    pointer moved since the swap, or when ``name@digest`` no longer stands approved."""
    ext = _ext(targets)
    entry = ext["names"].get(name) or {}
    by = target_path(from_name, from_digest)
    if entry.get("production") is not None or (entry.get("replaced") or {}).get("by") != by:
        now = entry.get("production") or "nothing"
        raise DecisionRefused(f"{name}:{production_tag} moved since {by} replaced it (it is {now} now)",
                              f"'curator state show' says what is in production; roll back {name} itself")
    other = ext["names"].get(from_name) or {}
    if other.get("production") not in (from_digest, None):
        raise DecisionRefused(
            f"{from_name}:{production_tag} moved since it replaced {name} "
            f"(it is {other.get('production')} now)",
            f"roll back {from_name} to {from_digest} first, or decide again")
    promote(targets, name, digest)
    back = target_path(name, digest)
    if other.get("production") == from_digest:
        other["production"] = None
        other["rolled_back"] = {"digest": from_digest, "to": back, "who": who, "when": when, "why": why}
        other.setdefault("history", []).append({"action": "rollback", "digest": None, "to": back})
    other.pop("replaces", None)


def _move(entry: dict[str, Any], digest: str, action: str) -> None:
    entry["production"] = digest
    # production is back on this name: whatever withdrew it no longer explains NAME:prod
    entry.pop("replaced", None)
    entry.pop("rolled_back", None)
    entry.setdefault("history", []).append({"action": action, "digest": digest})


def set_ledger_head(targets: Targets, rows: int, head: str, where: str = "") -> None:
    _ext(targets)["ledger"] = {"rows": rows, "head": head, **({"where": where} if where else {})}
