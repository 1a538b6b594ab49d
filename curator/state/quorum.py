"""A role's threshold counts curators, not keys.

TUF counts the distinct keys that signed; the team's root may list two keys of one curator
(a rotation not yet finished, a second laptop), and that curator alone must not reach a
threshold of two. A key's person is the e-mail its ``x-curator`` field names in the signed
root (``person_of``: case and spaces aside), or the key itself when it names none.
"""

from __future__ import annotations

from tuf.api.exceptions import UnsignedMetadataError
from tuf.api.metadata import Metadata, Root

from curator.attest.keys import person_of
from curator.state.keys import IDENTITY_FIELD


def signed_people(root: Root, role: str, md: Metadata) -> set[str]:  # type: ignore[type-arg]
    """The curators whose keys of ``role`` in ``root`` validly signed ``md``."""
    result = root.get_verification_result(role, md.signed_bytes, md.signatures)
    people = set()
    for keyid, key in result.signed.items():
        who = key.unrecognized_fields.get(IDENTITY_FIELD)
        email = str(who.get("email", "")) if isinstance(who, dict) else ""
        people.add(person_of(email) or keyid)
    return people


def verify_quorum(root: Root, role: str, md: Metadata, what: str) -> None:  # type: ignore[type-arg]
    """``md`` is signed by as many curators as ``root`` requires for ``role``, or
    UnsignedMetadataError naming how many did."""
    threshold = root.roles[role].threshold
    people = signed_people(root, role, md)
    if len(people) < threshold:
        raise UnsignedMetadataError(
            f"{what} is signed by {len(people)} curator(s) of root v{root.version}; its {role} role "
            f"needs {threshold}"
        )
