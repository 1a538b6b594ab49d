"""Separation of duties and approvals counted per person, the same way in ``decide`` and ``verify``.

A person is a trusted curator's e-mail (``person_of``): two keys of one curator (a rotation,
a second laptop, a key made for the occasion with the same name and e-mail) are one
approver, and a key that is not a trusted curator's counts for nobody. Who opened the
review is signed into every decision (``opened_by``), so the deploy gate can refuse an
approval by the opener even when the approver's own checklists did not ask for the rule.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from curator.attest.keys import person_of
from curator.attest.statement import Decision
from curator.attest.trust import TrustedCurator


def trusted_person(keyid: str, trusted: Mapping[str, TrustedCurator]) -> str | None:
    """The person a key approves as: its trusted, unrevoked curator's e-mail, else nobody."""
    entry = trusted.get(keyid)
    if entry is None or entry.revoked:
        return None
    return person_of(entry.email)


def opener_people(opener: Mapping[str, Any] | None, trusted: Mapping[str, TrustedCurator]) -> set[str]:
    """Everyone the recorded opener may be: the e-mail it names, and the curator its key belongs to."""
    if not opener:
        return set()
    people = {person_of(str(opener.get("email", "")))} - {""}
    key_owner = trusted.get(str(opener.get("keyid", "")))
    if key_owner is not None:
        people.add(person_of(key_owner.email))
    return people


def separation_problems(approvals: list[tuple[Decision, TrustedCurator]],
                        trusted: Mapping[str, TrustedCurator], required: int,
                        team_rule: bool) -> list[tuple[str, str]]:
    """(code, message) for each approval that breaks separation of duties.

    The rule holds when the team's policy or the decision itself says so, and more than one
    approval is required (one approver alone is the opener in a one-person team). Every
    approval of a review must name the same opener: one approver cannot move the blame.
    """
    problems: list[tuple[str, str]] = []
    by_review: dict[str, list[tuple[Decision, TrustedCurator]]] = {}
    for decision, signer in approvals:
        by_review.setdefault(decision.review_id, []).append((decision, signer))
    for review_id, signed in by_review.items():
        if required <= 1 or not (team_rule or any(d.separation_of_duties for d, _ in signed)):
            continue
        openers = {(d.opened_by.email.strip().casefold(), d.opened_by.keyid) if d.opened_by else None
                   for d, _ in signed}
        if None in openers:
            problems.append(("separation-of-duties", f"an approval of review {review_id} does not say who "
                             "opened it, and the team's policy forbids the opener to approve"))
            continue
        if len(openers) > 1:
            problems.append(("separation-of-duties", f"the approvals of review {review_id} name different "
                             "curators as its opener"))
            continue
        for decision, signer in signed:
            assert decision.opened_by is not None
            opener = opener_people(decision.opened_by.to_dict(), trusted)
            if person_of(signer.email) in opener:
                problems.append(("separation-of-duties", f"{signer.identity.label} opened review {review_id} "
                                 "and approved it: the team's policy needs another curator"))
    return problems
