"""Frequent words in open answers: counts equal a naive count, each word lists exactly its answers, scope."""
from __future__ import annotations

import html
import re
from collections import Counter
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from app.core import words
from app.core.clock import utcnow
from app.extensions import db
from app.models import Branch, QuestionType, Response, User
from app.services import dashboard
from app.services.dashboard import selection as dashboard_selection
from app.services.insight import open_answers
from app.services.insight.filters import InsightFilter
from tests.conftest import login
from test_dashboard import add_response

SUPERVISOR = ("supervisor", "loopdesk-supervisor")
ADMIN = ("admin", "loopdesk-admin")


def _branches() -> dict[str, Branch]:
    return {b.code: b for b in db.session.scalars(select(Branch))}


def _version_id() -> int:
    return db.session.scalar(select(Response.version_id).order_by(Response.id).limit(1))


def comment(branch: Branch, text: str, days_ago: float = 1, **kwargs) -> int:
    response = add_response(branch, _version_id(), utcnow() - timedelta(days=days_ago), {"comment": text}, **kwargs)
    db.session.flush()
    return response.id


@pytest.fixture
def answers(app, demo):
    """Known answers on top of the demo's: which response ids should come back for 态度很差."""
    with app.app_context():
        b = _branches()
        expected = [
            comment(b["SH-PEOPLE"], "服务员态度很差，等了很久", language="zh_Hans"),
            comment(b["HZ-WESTLAKE"], "态度很差!", days_ago=3, language="zh_Hans"),
            comment(b["SH-PEOPLE"], "服务员态度很差 and the coffee was cold", days_ago=5, language="en"),
        ]
        hidden = {
            "flagged": comment(b["SH-PEOPLE"], "态度很差", flags=["too_fast"], language="zh_Hans"),
            "other_branch": comment(b["LDN-SOHO"], "态度很差 in Soho, Soho pastries", language="zh_Hans"),
            "too_old": comment(b["SH-PEOPLE"], "态度很差", days_ago=45, language="zh_Hans"),
            "partial_word": comment(b["SH-PEOPLE"], "态度很好", language="zh_Hans"),
        }
        cleared = comment(b["HZ-WESTLAKE"], "态度很差", days_ago=2, flags=["too_fast"], review="cleared",
                          language="zh_Hans")
        db.session.commit()
        return {"expected": sorted(expected + [cleared]), "hidden": hidden}


def _as(client, who) -> None:
    assert login(client, *who).status_code in (302, 303)


def _linked_response_ids(page: str) -> list[int]:
    return sorted(int(i) for i in re.findall(r'href="/staff/responses/(\d+)"', page))


def naive_counts(user: User) -> tuple[int, Counter]:
    """Every open answer of the last 30 days in the user's branches, counted one by one."""
    selection = dashboard_selection.resolve(user, InsightFilter(), dashboard.home_today())
    in_scope = {b.id for b in selection.branches}
    counted, total = Counter(), 0
    for response in db.session.scalars(select(Response).where(Response.submitted_at.is_not(None))):
        day = response.submitted_at.astimezone(ZoneInfo(response.branch.timezone)).date()
        if response.branch_id not in in_scope or not response.counts_in_scores:
            continue
        if not selection.first <= day <= selection.last:
            continue
        for answer in response.answers:
            if answer.question.type == QuestionType.TEXT and answer.value_text:
                total += 1
                counted.update(set(words.words_of(answer.value_text)))
    return total, counted


def test_word_counts_equal_a_naive_count_over_the_raw_answers(app, answers):
    with app.app_context():
        supervisor = db.session.scalar(select(User).where(User.username == "supervisor"))
        chosen = open_answers.resolve(supervisor, {})
        counts = open_answers.word_counts(chosen)
        total, naive = naive_counts(supervisor)
        assert counts.answers == total > 5
        assert not counts.limited
        assert {row.term: row.answers for row in counts.words} == {
            term: n for term, n in sorted(naive.items(), key=lambda item: (-item[1], item[0]))[:open_answers.TOP_WORDS]
        }
        top = counts.words[0]
        assert top.share == pytest.approx(100 * top.answers / total)


def test_the_words_page_shows_words_and_phrases_each_linked_to_its_answers(client, answers):
    _as(client, SUPERVISOR)
    page = client.get("/insight/words/").get_data(as_text=True)
    assert 'id="words"' in page and 'id="phrases"' in page
    assert re.search(r"态度很差</a></th>\s*<td>4</td>", page)
    assert "服务员态度" in page  # a phrase written in two answers
    link = html.unescape(re.search(r'href="(/insight/words/answers\?[^"]*word=%E6%80%81[^"]*)"', page).group(1))
    assert "date_from=" in link and "date_to=" in link
    assert "<progress" in page and "style=" not in page


def test_clicking_a_word_lists_exactly_the_answers_containing_it(client, answers):
    _as(client, SUPERVISOR)
    page = client.get("/insight/words/answers", query_string={"word": "态度很差"}).get_data(as_text=True)
    assert _linked_response_ids(page) == answers["expected"]
    assert "4 answers contain it" in page
    for response_id in answers["hidden"].values():
        assert f"/staff/responses/{response_id}\"" not in page


def test_the_answers_follow_the_filters_of_the_words_page(client, app, answers):
    _as(client, SUPERVISOR)
    with app.app_context():
        hangzhou = _branches()["HZ-WESTLAKE"].id
    only_hz = client.get("/insight/words/answers", query_string={"word": "态度很差", "branch_ids": hangzhou})
    assert len(_linked_response_ids(only_hz.get_data(as_text=True))) == 2
    english = client.get("/insight/words/answers", query_string={"word": "态度很差", "language": "en"})
    assert len(_linked_response_ids(english.get_data(as_text=True))) == 1
    with_flagged = client.get("/insight/words/answers", query_string={"word": "态度很差", "include_flagged": "1"})
    assert answers["hidden"]["flagged"] in _linked_response_ids(with_flagged.get_data(as_text=True))
    old = client.get("/insight/words/answers", query_string={
        "word": "态度很差", "date_from": (utcnow() - timedelta(days=60)).date().isoformat()})
    assert answers["hidden"]["too_old"] in _linked_response_ids(old.get_data(as_text=True))
    other_question = client.get("/insight/words/answers", query_string={"word": "态度很差", "question": "nope"})
    assert _linked_response_ids(other_question.get_data(as_text=True)) == []


def test_a_supervisor_sees_only_the_words_of_their_branches(client, app, answers):
    with app.app_context():
        london = _branches()["LDN-SOHO"].id
    _as(client, SUPERVISOR)
    page = client.get("/insight/words/", query_string={"branch_ids": london}).get_data(as_text=True)
    assert "soho" not in page and "pastry" not in page
    listed = client.get("/insight/words/answers", query_string={"word": "soho", "branch_ids": london})
    assert _linked_response_ids(listed.get_data(as_text=True)) == []
    admin = client.application.test_client()
    _as(admin, ADMIN)
    assert "soho" in admin.get("/insight/words/").get_data(as_text=True)
    found = admin.get("/insight/words/answers", query_string={"word": "soho"}).get_data(as_text=True)
    assert _linked_response_ids(found) == [answers["hidden"]["other_branch"]]


def test_staff_are_refused_and_strangers_sent_to_sign_in(client, demo):
    assert client.get("/insight/words/").status_code in (302, 303)
    assert client.get("/insight/words/answers?word=queue").status_code in (302, 303)
    _as(client, ("staff", demo["passwords"]["staff"]))
    assert client.get("/insight/words/").status_code == 403
    assert client.get("/insight/words/answers?word=queue").status_code == 403


def test_bad_input_never_breaks_the_pages(client, answers):
    _as(client, SUPERVISOR)
    for args in ({"date_from": "yesterday", "branch_ids": "x", "language": "fr", "include_flagged": "maybe"},
                 {"date_from": "2026-13-45", "question": "q" * 500}):
        assert client.get("/insight/words/", query_string=args).status_code == 200
    no_word = client.get("/insight/words/answers", query_string={"word": "  ", "language": "en"})
    assert no_word.status_code == 303 and "/insight/words/?" in no_word.headers["Location"]
    odd = client.get("/insight/words/answers", query_string={"word": "态度很差", "page": "-3"})
    assert odd.status_code == 200 and len(_linked_response_ids(odd.get_data(as_text=True))) == 4
    typed = client.get("/insight/words/answers", query_string={"word": "  Coffee ", "page": "abc"})
    assert len(_linked_response_ids(typed.get_data(as_text=True))) >= 1


def test_answers_come_a_page_at_a_time(client, answers, monkeypatch):
    monkeypatch.setattr(open_answers, "PAGE_SIZE", 3)
    _as(client, SUPERVISOR)
    first = client.get("/insight/words/answers", query_string={"word": "态度很差"}).get_data(as_text=True)
    second = client.get("/insight/words/answers", query_string={"word": "态度很差", "page": 2}).get_data(as_text=True)
    assert "Page 1 of 2" in first and "Older answers" in first
    assert sorted(_linked_response_ids(first) + _linked_response_ids(second)) == answers["expected"]


def test_the_page_says_when_only_the_newest_answers_were_counted(client, answers, monkeypatch):
    monkeypatch.setattr(open_answers, "ANSWER_LIMIT", 2)
    _as(client, SUPERVISOR)
    page = client.get("/insight/words/").get_data(as_text=True)
    assert "Only the newest 2 answers are counted" in page
    assert "2 open answers in this selection" in page


def test_negated_phrases_stay_whole_on_the_words_page(client, app, demo):
    with app.app_context():
        b = _branches()
        ids = [comment(b["SH-PEOPLE"], text, language="zh_Hans") for text in ("上菜不算慢", "菜不难吃，就是普通")]
        slow = comment(b["SH-PEOPLE"], "上菜太慢，等了很久，慢", language="zh_Hans")
        db.session.commit()
    _as(client, SUPERVISOR)
    page = client.get("/insight/words/").get_data(as_text=True)
    assert "不算慢" in page and "不难吃" in page
    assert _linked_response_ids(client.get(
        "/insight/words/answers", query_string={"word": "不算慢"}).get_data(as_text=True)) == [ids[0]]
    assert _linked_response_ids(client.get(
        "/insight/words/answers", query_string={"word": "不难吃"}).get_data(as_text=True)) == [ids[1]]
    # "慢" lists the answer that said it, not the ones that said 不算慢
    assert _linked_response_ids(client.get(
        "/insight/words/answers", query_string={"word": "慢"}).get_data(as_text=True)) == [slow]


def naive_written(user: User) -> tuple[int, dict[str, set[int]]]:
    """Responses in the user's scope (last 30 days, counted) and, per category, those with a ticket whose open
    answer is a written complaint of it, recounted one response at a time."""
    from app.core import routing
    from app.models import Ticket

    selection = dashboard_selection.resolve(user, InsightFilter(), dashboard.home_today())
    in_scope = {b.id for b in selection.branches}
    ticketed = set(db.session.scalars(select(Ticket.response_id)))
    responses, found = 0, {}
    for response in db.session.scalars(select(Response).where(Response.submitted_at.is_not(None))):
        day = response.submitted_at.astimezone(ZoneInfo(response.branch.timezone)).date()
        if response.branch_id not in in_scope or not response.counts_in_scores:
            continue
        if not selection.first <= day <= selection.last:
            continue
        responses += 1
        if response.id not in ticketed:
            continue
        for answer in response.answers:
            if answer.question.type == QuestionType.TEXT and answer.value_text:
                category = routing.written_problem(answer.value_text)
                if category:
                    found.setdefault(category, set()).add(response.id)
    return responses, found


@pytest.fixture
def written(app, demo):
    from app.services.tickets.opening import open_from_response

    with app.app_context():
        b = _branches()
        ids = {
            "environment": [comment(b["SH-PEOPLE"], text, language="zh_Hans")
                            for text in ("洗手间没有纸", "厕所太臭了", "桌子黏糊糊的", "空调太冷了")],
            "product": [comment(b["HZ-WESTLAKE"], text, language="zh_Hans") for text in ("汤里有头发", "米饭夹生")],
            "praise": [comment(b["SH-PEOPLE"], text, language="zh_Hans") for text in ("没有让人失望", "上菜不算慢")],
        }
        db.session.commit()
        for response_id in [i for group in ids.values() for i in group]:
            open_from_response(response_id)
        db.session.commit()
        return ids


def test_written_key_issues_equal_a_naive_recount(app, written):
    with app.app_context():
        supervisor = db.session.scalar(select(User).where(User.username == "supervisor"))
        responses, naive = naive_written(supervisor)
        selection = dashboard_selection.resolve(supervisor, InsightFilter(), dashboard.home_today())
        issues = open_answers.written_key_issues(selection, responses)
        expected = {category: len(ids) for category, ids in naive.items() if len(ids) >= 3}
        assert {issue.category: issue.customers for issue in issues} == expected
        assert expected.get("environment", 0) >= 4
        for issue in issues:
            assert issue.share == pytest.approx(100 * issue.customers / responses)
            assert (issue.level == "first") == (issue.customers / responses >= 0.30)
        found = open_answers.answers_about(open_answers.WordsSelection(selection), "environment")
        assert {a.response_id for a in found.answers} == naive["environment"]
        assert set(written["environment"]) <= naive["environment"]
        assert not set(written["praise"]) & {i for ids in naive.values() for i in ids}


def test_the_dashboard_lists_written_key_issues_linked_to_their_answers(client, app, written):
    _as(client, SUPERVISOR)
    page = client.get("/insight/").get_data(as_text=True)
    assert 'id="written-issues"' in page
    link = re.search(r'<table id="written-issues">.*?href="([^"]*theme=environment[^"]*)"', page, re.S)
    assert link is not None
    listed = client.get(html.unescape(link.group(1))).get_data(as_text=True)
    assert set(written["environment"]) <= set(_linked_response_ids(listed))
    assert not set(written["praise"]) & set(_linked_response_ids(listed))
    assert client.get("/insight/words/answers", query_string={"theme": "nonsense"}).status_code in (302, 303)


def test_staff_cannot_read_written_key_issues(client, demo):
    assert login(client, "staff", "loopdesk-staff").status_code in (302, 303)
    assert client.get("/insight/words/answers", query_string={"theme": "environment"}).status_code == 403
