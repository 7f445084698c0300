"""Every word in the reader's language (issue 11 item 9): every page and notification in zh-Hans.

Each demo role signs in with Chinese chosen, opens every GET page of the URL map it may reach
(with ids of real demo rows), and the text it reads (tags stripped, plus the attributes a person
reads: aria-label, placeholder, title, alt) must hold no English msgid of the catalogue that has a
Chinese translation: such a string was shown without being translated. The e-mails and SMS of the
outbox and the in-app notifications (after an SLA sweep two days on, so escalations fired) are
read the same way.

Left out of the check, as msgids (``IGNORED`` says why of each kind):
- shorter than 4 characters or a single word of under 6 letters ("No", "Yes", "SLA", "Close"):
  they occur inside English data and brand words (the demo's bilingual names "客服部 Customer
  service", the customers' English comments) and would match nothing but chance;
- identical to their translation (Loopdesk, CSAT, NPS, e-mail addresses): nothing to translate;
- a message that is only placeholders and punctuation ("%(a)s – %(b)s").
Demo data that is English on purpose is data, not catalogue text, and is removed before the check:
the bilingual names and English comments of ``DATA``, the questionnaire's English texts (its editor
shows every language), department codes, webhook event types, and the English names of British public holidays (the
``holidays`` package has no Chinese names for them).
"""
from __future__ import annotations

import html
import re
from datetime import timedelta
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from app.core.clock import utcnow
from app.extensions import db
from app.models import (
    Notification,
    OutboxEmail,
    OutboxSms,
    Response,
    Ticket,
    TicketEvent,
    User,
)
from tests.conftest import login

TRANSLATIONS = Path(__file__).resolve().parents[2] / "app" / "translations"
PLACEHOLDER = re.compile(r"%\(\w+\)[#0 +-]*\d*(?:\.\d+)?[diouxXeEfFgGcrsa]|%%")
TAG = re.compile(r"<script\b.*?</script>|<style\b.*?</style>|<[^>]+>", re.S | re.I)
READ_ATTRIBUTES = re.compile(r'\b(?:aria-label|placeholder|title|alt)="([^"]*)"', re.I)
#: Demo data in English on purpose: names a person gave things, customers' own English words.
DATA = (
    "London Soho", "Europe", "East China", "Entrance", "Counter 2 (kiosk)", "Product", "Customer service",
    "Store operations", "Triage", "Admin", "Supervisor Wang", "Li (service)", "Sam (store ops)",
    "Great coffee, friendly staff", "The queue was far too long", "Music was too loud",
)
ROLES = ("admin", "supervisor", "staff", "staff.london")


def _is_ignored(msgid: str, translated: str) -> bool:
    """Short words, brand words and pure placeholders: see the module's docstring."""
    literal = PLACEHOLDER.sub("", msgid).strip(" .,:;–-—·/()")
    if len(literal) < 4 or msgid == translated:
        return True
    return " " not in literal and len(literal) < 6


def catalogue_patterns() -> list[tuple[str, re.Pattern]]:
    """(msgid, pattern) for every translated msgid the check looks for; placeholders match any text."""
    with (TRANSLATIONS / "zh_Hans" / "LC_MESSAGES" / "messages.po").open("rb") as f:
        catalogue = read_po(f)
    found = []
    for message in catalogue:
        if not message.id or not message.string:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        for msgid in ids:
            if _is_ignored(msgid, strings[0]):
                continue
            parts = [re.escape(part) for part in PLACEHOLDER.split(msgid.strip())]
            while parts and not parts[0].strip():  # a leading or trailing placeholder matches no more text
                parts.pop(0)
            while parts and not parts[-1].strip():
                parts.pop()
            body = r".{1,80}?".join(parts)
            found.append((msgid, re.compile(rf"(?<![A-Za-z]){body}(?![A-Za-z])")))
    return found


def data_words() -> list[str]:
    """English written by people or packages, not by us: see the module's docstring. Longest first."""
    from app.core.calendars import public_days
    from app.models import Department, Dimension, Question, Questionnaire, QuestionnaireVersion

    from app.services.webhooks.events import EVENT_TYPES, TEST_EVENT

    # webhook event types (sla.breached) are identifiers a receiver reads, shown beside their words
    found = set(DATA) | set(db.session.scalars(db.select(Department.code))) | {*EVENT_TYPES, TEST_EVENT}

    def english(texts) -> None:
        if isinstance(texts, dict) and texts.get("en"):
            found.add(texts["en"])

    for version in db.session.scalars(db.select(QuestionnaireVersion)):
        for texts in (version.title, version.intro, version.thanks):
            english(texts)
    for questionnaire in db.session.scalars(db.select(Questionnaire)):
        english(questionnaire.name)
    for dimension in db.session.scalars(db.select(Dimension)):
        english(dimension.name)
    for question in db.session.scalars(db.select(Question)):
        english(question.prompt)
        english(question.help)
        for option in question.options or []:
            english(option.get("label"))
    today = utcnow().date()
    found |= {note.name for note in public_days("GB", today - timedelta(days=400), today + timedelta(days=800), "ENG")
              if note.name}
    return sorted(found, key=len, reverse=True)


def readable_text(page: str, data: list[str] = ()) -> str:
    """What a person reads of a page: its text and the attributes read aloud or shown on hover, without ``data``."""
    attributes = " \n".join(READ_ATTRIBUTES.findall(page))
    text = html.unescape(TAG.sub("\n", page) + "\n" + attributes)
    for words in data:
        text = text.replace(words, "")
    return text


def untranslated(text: str, patterns) -> list[str]:
    """The msgids found in ``text``, each with the words around it (to find where it came from)."""
    found = []
    for msgid, pattern in patterns:
        if match := pattern.search(text):
            around = text[max(match.start() - 40, 0):match.end() + 40].replace("\n", " ")
            found.append(f"{msgid!r} in …{' '.join(around.split())}…")
    return found


@pytest.fixture
def chinese_demo(app, demo):
    """The demo with every user reading Chinese, a reply by e-mail and SMS to a customer who answered in
    Chinese, and an SLA sweep two days on (escalations fired)."""
    from app.services import tickets as ticket_service
    from app.services.sla import escalations

    app.config["LOOPDESK_SMS_URL"] = "https://sms.example.com/send"  # written to the outbox, never sent here
    with app.app_context():
        for user in db.session.scalars(db.select(User)):
            user.locale = "zh_Hans"
        ticket = db.session.scalar(db.select(Ticket).order_by(Ticket.id))
        ticket.language, ticket.contact_consent = "zh_Hans", True
        ticket.contact_email, ticket.contact_phone = "kehu@example.com", "13800138000"
        admin = db.session.scalar(db.select(User).where(User.username == "admin"))
        ticket_service.reply(ticket, admin, "您好，我们已经处理了。", ticket_service.page_version(ticket))
        db.session.commit()
        escalations.sweep(utcnow() + timedelta(days=2))
        db.session.commit()
    return demo


def _sample_ids(app, username: str) -> dict[str, int]:
    """A real id for each kind of path argument: the user's ticket with the most history, and its response."""
    from app.permissions import scope_tickets

    with app.app_context():
        user = db.session.scalar(db.select(User).where(User.username == username))
        ticket_id = db.session.scalar(
            scope_tickets(db.select(Ticket.id), user).join(TicketEvent, TicketEvent.ticket_id == Ticket.id)
            .where(TicketEvent.kind == "escalation").group_by(Ticket.id).order_by(db.func.count().desc()).limit(1)
        ) or db.session.scalar(scope_tickets(db.select(Ticket.id), user).order_by(Ticket.id))
        response_id = db.session.scalar(db.select(Ticket.response_id).where(Ticket.id == ticket_id))
    return {"ticket_id": ticket_id, "response_id": response_id or 1}


def _url(rule, ids: dict[str, int]) -> str | None:
    values = {}
    for name, converter in rule._converters.items():
        if converter.__class__.__name__ in ("IdConverter", "IntegerConverter"):
            values[name] = ids.get(name, 1)
        else:
            return None  # tokens, secrets and names: the survey and the customer pages are walked by their own tests
    path = rule.rule
    for name, value in values.items():
        path = re.sub(rf"<(?:\w+(?:\([^)]*\))?:)?{name}>", str(value), path)
    return path


def _pages(app, client, ids) -> dict[str, str]:
    pages = {}
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static" or "GET" not in rule.methods or rule.endpoint.startswith("auth."):
            continue
        url = _url(rule, ids)
        if url is None:
            continue
        response = client.get(url)
        if response.status_code == 200 and response.content_type.startswith("text/html"):
            pages[url] = response.get_data(as_text=True)
    return pages


@pytest.mark.parametrize("username", ROLES)
def test_every_page_a_role_reaches_reads_in_chinese(app, chinese_demo, username):
    patterns = catalogue_patterns()
    client = app.test_client()
    assert login(client, username, chinese_demo["passwords"][username]).status_code == 302
    client.get("/home?lang=zh_Hans")
    pages = _pages(app, client, _sample_ids(app, username))
    with app.app_context():
        data = data_words()
    assert len(pages) > 3
    problems = {url: found for url, page in pages.items() if (found := untranslated(readable_text(page, data), patterns))}
    assert not problems, "\n".join(f"{url}: {line}" for url, found in sorted(problems.items()) for line in found)


def test_every_notification_and_message_reads_in_chinese(app, chinese_demo):
    patterns = catalogue_patterns()
    with app.app_context():
        texts = {f"notification {n.id} ({n.kind})": f"{n.title}\n{n.body}" for n in db.session.scalars(db.select(Notification))}
        texts |= {f"e-mail {e.id} to {e.to}": f"{e.subject}\n{e.body}" for e in db.session.scalars(db.select(OutboxEmail))}
        texts |= {f"sms {s.id}": s.body for s in db.session.scalars(db.select(OutboxSms))}
        kinds = set(db.session.scalars(db.select(Notification.kind)))
        data = data_words()
    assert "escalation" in kinds, kinds
    assert any(where.startswith("sms") for where in texts) and any(where.endswith("kehu@example.com") for where in texts), texts
    problems = {
        where: found for where, text in texts.items()
        if (found := untranslated(readable_text(text, data), patterns)) or re.search(r"\b(?:overdue|due soon|level \d)\b", text)
    }
    assert not problems, "\n".join(f"{where}: {found}" for where, found in sorted(problems.items())[:40])


WAITING_AND_ATTITUDE = [("product", 5), ("service", 1), ("service_problem", ["waiting", "attitude"]),
                        ("environment", 5), ("nps", 8)]


def _complain_without_words(walker) -> int:
    """A customer at Shanghai rates service 1 and ticks two options, writing nothing; the ticket's id."""
    walker.open()
    for key, value in WAITING_AND_ATTITUDE:
        walker.answer(**{key: value})
    walker.answer(comment="")
    return db.session.scalar(db.select(Ticket.id).join(Response).order_by(Response.id.desc()).limit(1))


def test_the_issues_cases_read_in_chinese_subject_reasons_and_ticked_options(app, chinese_demo, walker):
    """The subject (the ticked options' labels), the routing reasons and the chosen options, in Chinese,
    on the ticket, in the queue, on the response's page and in the tickets export."""
    from flask_babel import force_locale

    from app.services.exports.tickets import TicketTable
    from app.services.insight.filters import InsightFilter

    with app.app_context():
        ticket_id = _complain_without_words(walker)
        response_id = db.session.get(Ticket, ticket_id).response_id
    staff = app.test_client()
    assert login(staff, "staff", chinese_demo["passwords"]["staff"]).status_code == 302
    page = readable_text(staff.get(f"/staff/tickets/{ticket_id}").get_data(as_text=True))
    assert "等待时间太长和服务态度不好" in page  # the subject, worded as Chinese lists are
    assert "您对我们的服务满意吗？：CSAT 1 ≤ 2" in page  # the reason, with the question's words
    assert "服务问题" in page  # the default rule's name
    for english in ("waiting", "attitude", "service: service", "CSAT 1 ≤ 2 →", "Service problems", "rule 2"):
        assert english not in page, english
    queue = readable_text(staff.get("/staff/queue?view=all").get_data(as_text=True))
    assert "等待时间太长和服务态度不好" in queue
    answers = readable_text(staff.get(f"/staff/responses/{response_id}").get_data(as_text=True))
    assert "等待时间太长和服务态度不好" in answers and "waiting" not in answers
    with app.test_request_context(), force_locale("zh_Hans"):
        admin = db.session.scalar(db.select(User).where(User.username == "admin"))
        table = TicketTable(admin, InsightFilter(), "zh_Hans")
        subjects = [row[-1] for batch in table.batches() for row in batch]
    assert "等待时间太长和服务态度不好" in subjects
    assert not [subject for subject in subjects if re.match(r"\w+: \w+ \d/\d", subject or "")], subjects


def test_escalation_lines_and_sla_notifications_read_in_chinese(app, chinese_demo, walker):
    """The rung that warns (due soon) and the ones that escalate, in the receivers' inbox and e-mail and on
    the ticket's history, in Chinese; the English sentences of before are nowhere."""
    from app.services.sla import clocks as sla_clocks, escalations

    with app.app_context():
        ticket_id = _complain_without_words(walker)
        ticket = db.session.get(Ticket, ticket_id)
        warning_at = sla_clocks.clock_for(ticket, utcnow()).first_response.warning_at
        escalations.sweep(warning_at + timedelta(minutes=1))
        db.session.commit()
        escalations.sweep(utcnow() + timedelta(days=3))
        db.session.commit()
        inbox = {(n.kind, n.title, n.body) for n in db.session.scalars(db.select(Notification).where(Notification.ticket_id == ticket_id))}
        reference = ticket.reference_code
    titles = {title for _kind, title, _body in inbox}
    assert f"{reference} · 首次响应即将到期" in titles, titles
    assert any(title.startswith(f"{reference} · 首次响应已超时（第 1 级）") for title in titles), titles
    assert any("已升级（第 2 级）" in title and "小时" in title for title in titles), titles
    assert all("等待时间太长和服务态度不好 · 上海人民广场店" in body and "截止" in body for _kind, _title, body in inbox), inbox
    staff = app.test_client()
    assert login(staff, "staff", chinese_demo["passwords"]["staff"]).status_code == 302
    page = readable_text(staff.get(f"/staff/tickets/{ticket_id}").get_data(as_text=True))
    assert "第 1 级升级：首次响应已超时（第 1 级）。已通知：" in page
    for english in ("Escalation level", "Notified", "overdue", "due soon", "level 1"):
        assert english not in page, english


def test_a_customers_pages_read_in_chinese_survey_steps_thanks_and_status(app, chinese_demo, walker):
    """The pages a customer reads (their paths carry a token or a secret, so the URL map walk above skips
    them): every survey step, the thank-you page and the status page its link opens."""
    patterns = catalogue_patterns()
    with app.app_context():
        data = data_words()
    pages = {}
    walker.open(lang="zh_Hans")
    pages["step 1"] = walker.page
    for key, value in WAITING_AND_ATTITUDE:
        walker.answer(**{key: value})
        pages[f"after {key}"] = walker.page
    walker.answer(comment="", contact_consent="y", contact_phone="13800138000")
    pages["thank-you"] = walker.page
    with app.app_context():
        ticket = db.session.scalar(db.select(Ticket).join(Response).order_by(Response.id.desc()).limit(1))
        link = f"/t/{ticket.reference_code}?s={ticket.customer_secret}"
    pages["status"] = walker.client.get(link).get_data(as_text=True)
    assert "感谢您的反馈" in pages["thank-you"] and ticket.reference_code in pages["status"]
    problems = {where: found for where, page in pages.items() if (found := untranslated(readable_text(page, data), patterns))}
    assert not problems, "\n".join(f"{where}: {line}" for where, found in problems.items() for line in found)
