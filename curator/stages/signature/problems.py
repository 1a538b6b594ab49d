"""Why a signature gave no verified statement: an outcome of the check, not a crash.

These never reach a person as an error: the stage turns them into findings and a
status, the CLI into ``status``/``error`` and exit code 1. Operational errors (a
missing key file, a missing trust root) stay ``CuratorError``s.
"""

from __future__ import annotations

#: problem code -> what it means for the outcome
PROBLEM_CODES = {
    "unreadable": "the signature file is not a Sigstore bundle curator can read",
    "rejected": "the signature does not verify (bad signature, untrusted chain, other key)",
    "wrong-mode": "signed in another way than the one curator was told to expect",
    "unverifiable": "signed, but curator holds no key or CA to check it with",
}


#: a problem is told in one line; a library's multi-page validation report is cut to this
MAX_MESSAGE = 600


class SignatureProblem(Exception):
    """A signature that could not be verified; ``code`` is one of ``PROBLEM_CODES``.

    The message is one line whatever the libraries underneath said (pydantic's reports span
    lines and quote the input): whitespace runs collapse to one space, and a long one is cut.
    """

    def __init__(self, code: str, message: str) -> None:
        message = " ".join(message.split())
        if len(message) > MAX_MESSAGE:
            message = message[:MAX_MESSAGE - 1] + "…"
        super().__init__(message)
        assert code in PROBLEM_CODES, code
        self.code = code
        self.message = message
