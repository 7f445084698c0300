"""The survey's two rate limits, counted together in one round trip (app/rate_limits.py)."""
from __future__ import annotations

import uuid

import pytest

from tests.conftest import REDIS_URL, SurveyWalker

PREFIX = f"test-{uuid.uuid4().hex[:12]}"


def _walk_and_repeat(app, token: str, times: int) -> list[int]:
    """Open a survey, then send the first step's answer again and again from one phone."""
    phone = SurveyWalker(app.test_client(), token)
    assert phone.open().status_code == 200
    return repeat_the_first_answer(phone, times)


def repeat_the_first_answer(phone: SurveyWalker, times: int) -> list[int]:
    """The answer to the step the phone has open, sent again and again (each counts against its limits)."""
    page = phone.page
    statuses = []
    for _ in range(times):
        phone.page = page
        statuses.append(phone.answer(product=4, follow=False).status_code)
    return statuses


@pytest.mark.redis
@pytest.mark.parametrize(
    "app",
    [{
        "RATELIMIT_ENABLED": True, "RATELIMIT_STORAGE_URI": REDIS_URL, "RATELIMIT_KEY_PREFIX": PREFIX,
        "LOOPDESK_SURVEY_LIMIT_PER_DEVICE": "3/minute", "LOOPDESK_SURVEY_LIMIT_PER_ADDRESS": "100/minute;1000/hour",
    }],
    indirect=True,
)
def test_limits_in_redis_use_one_round_trip_and_flask_limiters_keys(app, demo):
    import redis

    client = redis.Redis.from_url(REDIS_URL)
    try:
        statuses = _walk_and_repeat(app, demo["tokens"]["SH-PEOPLE"], 5)
        assert statuses == [303, 303, 303, 429, 429]  # the fourth answer within a minute is refused
        keys = sorted(key.decode() for key in client.scan_iter(f"LIMITS:LIMITER/{PREFIX}/*"))
        device = [key for key in keys if "/survey-device/" in key]
        assert len(device) == 1 and device[0].endswith("/survey-device/3/1/minute")
        assert int(client.get(device[0])) == 5  # a refused answer still counts against the phone
        address = {key.rsplit("/", 3)[-3]: int(client.get(key)) for key in keys if "/survey-address/" in key}
        # The page and three answers passed both; the phone's limit is the smallest, so the two refused
        # answers stopped there, as Flask-Limiter stops at the first limit breached.
        assert address == {"100": 4, "1000": 4}
        assert 0 < client.ttl(device[0]) <= 60
    finally:
        for key in client.scan_iter(f"LIMITS:LIMITER/{PREFIX}/*"):
            client.delete(key)


@pytest.mark.parametrize(
    "app",
    [{
        "RATELIMIT_ENABLED": True, "RATELIMIT_STORAGE_URI": "redis://127.0.0.1:1/0",
        "LOOPDESK_SURVEY_LIMIT_PER_DEVICE": "2/minute", "LOOPDESK_SURVEY_LIMIT_PER_ADDRESS": "100/minute",
    }],
    indirect=True,
)
def test_redis_away_the_survey_works_and_is_limited_in_process(app, demo):
    assert _walk_and_repeat(app, demo["tokens"]["HZ-WESTLAKE"], 3) == [303, 303, 429]


@pytest.mark.parametrize(
    "app",
    [{"RATELIMIT_ENABLED": True, "LOOPDESK_SURVEY_LIMIT_PER_DEVICE": "100/minute", "LOOPDESK_SURVEY_LIMIT_PER_ADDRESS": "3/minute"}],
    indirect=True,
)
def test_the_address_limit_covers_pages_too(app, demo):
    client = app.test_client()
    statuses = [client.get(f"/s/{demo['tokens']['LDN-SOHO']}").status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    assert "Too many requests" in client.get(f"/s/{demo['tokens']['LDN-SOHO']}").get_data(as_text=True)
