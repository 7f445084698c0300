"""A transaction PostgreSQL rolls back as a deadlock is run again (several workers opening tickets at once)."""
from __future__ import annotations

import pytest
from sqlalchemy.exc import OperationalError

from app.models import busy


class _Refusal(Exception):
    def __init__(self, sqlstate: str) -> None:
        super().__init__(f"refused ({sqlstate})")
        self.sqlstate = sqlstate


def _refusing(times: int, sqlstate: str):
    calls = []

    def work() -> str:
        calls.append(1)
        if len(calls) <= times:
            raise OperationalError("UPDATE qr_codes …", {}, _Refusal(sqlstate))
        return "done"

    return work, calls


@pytest.mark.parametrize("sqlstate", ["40P01", "40001"])  # deadlock_detected, serialization_failure
def test_a_deadlock_or_serialization_failure_is_run_again(app, monkeypatch, sqlstate):
    monkeypatch.setattr(busy, "FIRST_PAUSE_SECONDS", 0.001)
    work, calls = _refusing(2, sqlstate)
    with app.app_context():
        assert busy.retrying_when_busy(work, "test") == "done"
    assert len(calls) == 3


def test_other_refusals_are_not_run_again_and_a_deadlock_not_forever(app, monkeypatch):
    monkeypatch.setattr(busy, "FIRST_PAUSE_SECONDS", 0.001)
    work, calls = _refusing(1, "57P01")  # admin_shutdown: the 503 page's business, not a retry
    with app.app_context(), pytest.raises(OperationalError):
        busy.retrying_when_busy(work, "test")
    assert len(calls) == 1
    work, calls = _refusing(10, "40P01")
    with app.app_context(), pytest.raises(OperationalError):
        busy.retrying_when_busy(work, "test")
    assert len(calls) == busy.ATTEMPTS
