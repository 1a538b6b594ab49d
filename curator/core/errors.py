"""One error hierarchy. Every error names its input and says what to do next."""

from __future__ import annotations


class CuratorError(Exception):
    """Base of every error curator reports to a person.

    ``advice`` says what to do next; ``exit_code`` follows the CLI contract
    (1 = the check says no, 2 = usage or operational error).
    """

    exit_code = 2

    def __init__(self, message: str, advice: str = "") -> None:
        self.message = message
        self.advice = advice
        super().__init__(self.diagnostics())

    def diagnostics(self) -> str:
        """One line for stderr: what went wrong, then what to do."""
        return f"{self.message}: {self.advice}" if self.advice else self.message


class UsageError(CuratorError):
    """The user's input is not usable as given."""


class CandidateNotFound(CuratorError):
    """The hub does not know the repository or the revision."""


class HubUnreachable(CuratorError):
    """The hub could not be reached or answered with a server error."""


class IntegrityError(CuratorError):
    """Bytes or records are not what they claim to be."""

    exit_code = 1


class LedgerError(CuratorError):
    """The ledger cannot be opened, read or written."""


class ReviewNotFound(CuratorError):
    """No review with that id in the ledger."""


class StageCrashed(CuratorError):
    """A stage or a tool it runs failed to produce a verdict."""


class DecisionRefused(CuratorError):
    """Policy, identity or state forbids the decision as asked (blocked, duplicate, not allowed)."""

    exit_code = 1


class RegistryUnreachable(CuratorError):
    """The registry could not be reached, refused the credentials, or answered with a server error."""


class NotInRegistry(CuratorError):
    """The registry does not hold the reference asked for: the gate says no."""

    exit_code = 1
