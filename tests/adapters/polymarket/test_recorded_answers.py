"""The contract of the venue's answers: every recorded answer parses with the adapter's schemas,
and the sandbox, recorded again now, gives the same cases in the same shapes, which parse too."""

from __future__ import annotations

import uuid

import pytest

from sandbox.record import record_all
from sandbox.runtime import Sandbox
from tests import recorded
from tests.adapters.polymarket.wire_cases import NOT_READ, READERS, shape

READ = [(file, case) for file in recorded.FILES for case in READERS[file]]


def test_every_recorded_case_is_read_or_known_to_be_unread() -> None:
    for file in recorded.FILES:
        cases = set(recorded.samples(file))
        assert cases == set(READERS[file]) | NOT_READ[file], file
        assert not set(READERS[file]) & NOT_READ[file], file


@pytest.mark.parametrize(("file", "case"), READ)
def test_every_recorded_answer_parses(file: str, case: str) -> None:
    READERS[file][case](recorded.sample(file, case))


@pytest.mark.sandbox
def test_the_sandboxs_answers_meet_the_same_contract(sandbox: Sandbox) -> None:
    live = record_all(sandbox, slug=f"contract-{uuid.uuid4().hex[:10]}")
    for file in recorded.FILES:
        samples = recorded.samples(file)
        assert set(live[file]) == set(samples), file
        for case, answer in live[file].items():
            assert answer["status"] == samples[case]["status"], case
            assert shape(answer["body"]) == shape(samples[case]["body"]), case
            if case in READERS[file]:
                READERS[file][case](answer)
