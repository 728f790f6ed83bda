"""`projectk bench mirror` refuses bad arguments with a clear message before starting anything."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from cli import main


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--pairs", "1,2,3,4,5"], "--pairs takes at most 4 pair counts, got 5"),
        (["--pairs", "1,x"], "--pairs must be numbers separated by commas"),
        (["--pairs", "0"], "--pairs needs at least one positive number"),
        (["--idle-minutes", "0"], "Invalid value for '--idle-minutes'"),
        (["--fills", "0"], "Invalid value for '--fills'"),
    ],
)
def test_bad_arguments_are_refused_before_anything_starts(args: list[str], message: str) -> None:
    result = CliRunner().invoke(main, ["bench", "mirror", *args])
    assert result.exit_code != 0
    assert message in result.output
