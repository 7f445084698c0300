"""Customers at a human pace are not "too fast", whichever path they took; scripted taps are.

Scripted runs of the default questionnaire at 1.5–4 s a tap (typing 1–4 characters a second), happy and unhappy
in the demo's proportions, each submitted and processed as the response job does, one after the other so the
version's median pace builds up from them (the first ones meet the floor). The share flagged too fast must stay
at or below 1 %; bots at 0.2–0.6 s a tap (pasting their text) must be caught.

    .venv/bin/python -m pytest -s tests/integration/survey/test_honest_pace.py   # prints the figures
"""
from __future__ import annotations

import random
import secrets
from datetime import timedelta

from sqlalchemy import select

from app.core.clock import utcnow
from app.core.quality import TOO_FAST
from app.extensions import db
from app.models import Answer, Branch, QuestionType, Response
from app.services.survey.plans import plan_for
from app.services.survey.responses import process_submitted

HONEST_RUNS = 300
BOT_RUNS = 60
COMMENTS = ["服务员态度很好", "排队排了一个小时，太慢了", "The tea was cold and nobody came to our table",
            "洗手间没有纸", "Great service, thank you!", "上错菜了，等了很久才换", "还行"]


def scripted_run(
    rng: random.Random, plan, seconds_per_tap: tuple[float, float], happy: bool,
    chars_per_second: tuple[float, float] = (1, 4),
) -> tuple[dict, float]:
    """The answers of one run along the questionnaire's skip rules, and how long it took at that pace."""
    score = (lambda: rng.choice([4, 5])) if happy else (lambda: rng.choice([1, 2, 3]))
    values: dict = {}
    seconds = 0.0
    for _ in range(3):  # answers change which questions show: walk until the path is stable
        shown = plan.visible_keys(values)
        for key in shown:
            if key in values:
                continue
            question = plan.by_key[key]
            if question.type == QuestionType.CSAT:
                values[key] = score()
            elif question.type == QuestionType.NPS:
                values[key] = rng.choice([9, 10]) if happy else rng.randint(0, 6)
            elif question.type == QuestionType.MULTIPLE:
                values[key] = rng.sample(list(question.option_values), min(2, len(question.options)))
            elif question.type == QuestionType.SINGLE:
                values[key] = question.option_values[0]
            elif question.type == QuestionType.TEXT:
                if not happy or rng.random() < 0.2:
                    values[key] = rng.choice(COMMENTS)
                else:
                    values[key] = None
            else:
                continue
            seconds += rng.uniform(*seconds_per_tap)
            if isinstance(values[key], str):
                seconds += len(values[key]) / rng.uniform(*chars_per_second)
    return {k: v for k, v in values.items() if v is not None}, seconds


def submit(branch: Branch, version_id: int, values: dict, seconds: float, at) -> Response:
    plan = plan_for(version_id)
    duration = int(seconds)
    response = Response(
        branch_id=branch.id, qr_code_id=branch.qr_codes[0].id, version_id=version_id, language="zh_Hans",
        device_id=secrets.token_hex(8), idempotency_key=secrets.token_urlsafe(24),
        started_at=at - timedelta(seconds=duration), last_answered_at=at, furthest_step=6,
        submitted_at=at, duration_seconds=duration,
    )
    for key, value in values.items():
        response.answers.append(Answer(
            question_id=plan.by_key[key].id,
            value_int=value if isinstance(value, int) else None,
            value_choices=value if isinstance(value, list) else None,
            value_text=value if isinstance(value, str) else None,
        ))
    db.session.add(response)
    db.session.commit()
    process_submitted(response.id)
    db.session.commit()
    return response


def test_honest_customers_at_a_human_pace_are_not_flagged_and_scripted_taps_are(app, demo):
    rng = random.Random(20261202)
    with app.app_context():
        branches = list(db.session.scalars(select(Branch).order_by(Branch.id)))
        version_id = db.session.scalar(select(Response.version_id).order_by(Response.id.desc()).limit(1))
        plan = plan_for(version_id)
        at = utcnow() - timedelta(days=1)
        flagged = {"happy": 0, "unhappy": 0}
        runs = {"happy": 0, "unhappy": 0}
        for i in range(HONEST_RUNS):
            mood = "happy" if rng.random() < 0.7 else "unhappy"
            values, seconds = scripted_run(rng, plan, (1.5, 4.0), mood == "happy")
            at += timedelta(minutes=7)
            response = submit(branches[i % len(branches)], version_id, values, seconds, at)
            runs[mood] += 1
            flagged[mood] += TOO_FAST in response.quality_flags
        caught = 0
        for i in range(BOT_RUNS):
            values, seconds = scripted_run(rng, plan, (0.2, 0.6), rng.random() < 0.5, chars_per_second=(30, 60))
            at += timedelta(minutes=7)
            caught += TOO_FAST in submit(branches[i % len(branches)], version_id, values, seconds, at).quality_flags
    share = (flagged["happy"] + flagged["unhappy"]) / HONEST_RUNS
    print(f"\nhonest runs at 1.5-4 s a tap flagged too fast: {flagged['happy'] + flagged['unhappy']} of {HONEST_RUNS}"
          f" ({100 * share:.1f} %): happy {flagged['happy']} of {runs['happy']}, unhappy {flagged['unhappy']} of"
          f" {runs['unhappy']}; bots at 0.2-0.6 s a tap caught: {caught} of {BOT_RUNS}")
    assert share <= 0.01
    assert caught >= 0.95 * BOT_RUNS
