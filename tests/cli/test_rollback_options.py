"""`curator rollback` needs a rationale, like `decide` and `retire`."""

from __future__ import annotations

import pytest

from tests.decision.helpers import cli


@pytest.mark.parametrize("rationale", [[], ["--rationale", ""], ["--rationale", " \t"]])
def test_rollback_without_a_rationale_is_a_usage_error(rationale: list[str]) -> None:
    done = cli("rollback", "acme/tiny", *rationale)
    assert done.returncode == 2 and done.stdout == "" and "Traceback" not in done.stderr
    assert "--rationale" in done.stderr
