"""Usage errors from the argument parser are a short message and exit 2, never a traceback."""

from __future__ import annotations

import pytest

from tests.decision.helpers import cli


@pytest.mark.parametrize(("args", "says"), [
    (["decide", "r-1", "--approve"], "Missing option '--rationale'"),
    (["review"], "Missing argument"),
    (["no-such-command"], "No such command 'no-such-command'"),
    (["review", "acme/model", "--no-such-flag"], "No such option: --no-such-flag"),
    (["ledger"], "Usage:"),  # a group with no command: its help, as a usage error
])
def test_a_parser_error_is_a_message_and_exit_2(args: list[str], says: str) -> None:
    done = cli(*args)
    assert done.returncode == 2 and "Traceback" not in done.stderr, done.stderr[-2000:]
    assert says in done.stdout + done.stderr
