"""The demo that scripts/dev seeds: branches, QR codes, the default questionnaire, users, history."""
from __future__ import annotations

import random
import secrets
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from app.core import contacts
from app.core.clock import utcnow
from app.core.contacts import AttributeType, Channel as ContactChannel
from app.core.reference import new_reference_code
from app.extensions import db
from app.models import (
    Answer, Branch, Channel, Customer, CustomerAttribute, CustomerConsent, Department, QrCode, Response, Role, Ticket,
    TicketStatus, User,
)
from app.services import tickets as ticket_service
from app.services.insight import rollups
from app.services.routing import stored
from app.services.sla import clocks as sla_clocks, policies
from app.services.tickets import opening, queries
from app.services.branches.qr_codes import survey_url
from app.services.questionnaires.templates import create_default_questionnaire
from app.services.survey.plans import plan_for
from app.services.survey.responses import path_effort

OPENING_HOURS = {day: [["10:00", "22:00"]] for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}

BRANCHES = [
    # code, name, region, time zone
    ("SH-PEOPLE", "上海人民广场店", "华东 East China", "Asia/Shanghai"),
    ("HZ-WESTLAKE", "杭州西湖店", "华东 East China", "Asia/Shanghai"),
    ("LDN-SOHO", "London Soho", "Europe", "Europe/London"),
]

DEPARTMENTS = [
    ("product", "产品部 Product", False),
    ("service", "客服部 Customer service", False),
    ("operations", "门店运营部 Store operations", False),
    ("triage", "分诊 Triage", True),
]

#: username, role, password, display name, branch codes (None = all), department codes
USERS = [
    ("admin", Role.ADMIN, "loopdesk-admin", "管理员 Admin", None, ["product", "service", "operations", "triage"]),
    ("supervisor", Role.SUPERVISOR, "loopdesk-supervisor", "王主管 Supervisor Wang", ["SH-PEOPLE", "HZ-WESTLAKE"],
     ["product", "service", "operations", "triage"]),
    ("staff", Role.STAFF, "loopdesk-staff", "李客服 Li (service)", ["SH-PEOPLE"], ["service"]),
    ("staff.london", Role.STAFF, "loopdesk-london", "Sam (store ops)", ["LDN-SOHO"], ["operations"]),
]

COMMENTS = [
    ("zh_Hans", "排队时间太长了，等了二十分钟"),
    ("zh_Hans", "服务员态度很好，环境干净"),
    ("zh_Hans", "产品质量不错，但是价格有点贵"),
    ("zh_Hans", "洗手间不干净"),
    ("en", "Great coffee, friendly staff"),
    ("en", "The queue was far too long"),
    ("en", "Music was too loud"),
]


def seed_demo(responses: int = 300, seed: int = 7, worked_tickets: bool = True) -> bool:
    """Seed an empty database. Returns False (and changes nothing) when it already has branches.

    ``worked_tickets``: the older tickets were answered and resolved (mostly in time), as
    ``_worked_tickets`` says; without it every ticket is as it was opened (the tests' small demo).
    """
    if db.session.scalar(select(func.count(Branch.id))):
        return False
    rng = random.Random(seed)
    branches = {}
    for code, name, region, zone in BRANCHES:
        branch = Branch(
            code=code, name=name, region=region, timezone=zone, opening_hours=OPENING_HOURS,
            default_language="en" if zone == "Europe/London" else None,
        )
        branch.qr_codes = [QrCode(label="入口 Entrance")]
        if code == "SH-PEOPLE":
            branch.qr_codes.append(QrCode(label="2号柜台 Counter 2 (kiosk)", is_kiosk=True))
        branches[code] = branch
        db.session.add(branch)
    departments = {code: Department(code=code, name=name, is_triage=triage) for code, name, triage in DEPARTMENTS}
    db.session.add_all(departments.values())
    for username, role, password, display, branch_codes, dept_codes in USERS:
        user = User(username=username, role=role, display_name=display, all_branches=branch_codes is None)
        user.set_password(password)
        user.branches = [branches[c] for c in branch_codes or []]
        user.departments = [departments[c] for c in dept_codes]
        db.session.add(user)
    _customers(random.Random(f"customers-{seed}"), branches)  # its own: the history stays as it was
    questionnaire = create_default_questionnaire()
    _past_responses(rng, list(branches.values()), questionnaire.current_version_id, responses)
    stored.seed_default_rules()
    policies.ensure_default_policies()
    _recent_tickets()
    if worked_tickets:
        _worked_tickets(rng)
    rollups.rebuild_all()  # the past responses were written directly, not through the after-submit job
    db.session.commit()
    return True


#: The attributes the guides layer customers by: value tier, size, when the relationship started; and tags.
CUSTOMER_ATTRIBUTES = [
    ("tier", {"zh_Hans": "价值等级", "en": "Value tier"}, AttributeType.CHOICE,
     [("high", "高价值", "High"), ("medium", "中价值", "Medium"), ("low", "低价值", "Low")]),
    ("size", {"zh_Hans": "客户规模", "en": "Size"}, AttributeType.CHOICE,
     [("large", "大型", "Large"), ("medium", "中型", "Medium"), ("small", "小型", "Small")]),
    ("start_date", {"zh_Hans": "合作开始日期", "en": "Customer since"}, AttributeType.DATE, []),
    ("tags", {"zh_Hans": "标签", "en": "Tags"}, AttributeType.TAGS, []),
]
CHINESE_SURNAMES = "王李张刘陈杨赵黄周吴"
CHINESE_GIVEN = ["伟", "芳", "娜", "敏", "静", "强", "磊", "洋", "艳", "杰"]
ENGLISH_NAMES = ["Alice Smith", "Oliver Brown", "Amelia Jones", "Harry Taylor", "Isla Wilson", "Jack Evans"]
COMPANIES = ["上海华信贸易有限公司", "杭州云帆科技有限公司", "浙江恒达物流", "上海新城餐饮管理", "个人客户"]


def _customers(rng: random.Random, branches: dict[str, Branch], per_branch: int = 8) -> None:
    """Known customers at each demo branch with a value tier, a size and a start date (issue 14)."""
    for position, (key, labels, kind, choices) in enumerate(CUSTOMER_ATTRIBUTES):
        db.session.add(CustomerAttribute(
            key=key, labels=labels, type=kind, position=position,
            choices=[{"value": v, "labels": {"zh_Hans": zh, "en": en}} for v, zh, en in choices]))
    owner = db.session.scalar(select(User).where(User.username == "supervisor"))
    now = utcnow()
    number = 0
    for code, branch in branches.items():
        london = code == "LDN-SOHO"
        for index in range(per_branch):
            number += 1
            tier = rng.choices(["high", "medium", "low"], weights=[2, 3, 5])[0]
            if london:
                name, phone, language = ENGLISH_NAMES[index % len(ENGLISH_NAMES)], f"07911 123{number:03d}", "en"
                company = "Soho Trading Ltd" if tier != "low" else None
            else:
                name = rng.choice(CHINESE_SURNAMES) + rng.choice(CHINESE_GIVEN)
                phone, language, company = f"139{rng.randrange(10**7, 10**8)}", "zh_Hans", rng.choice(COMPANIES)
            started = (now - timedelta(days=rng.choice([60, 200, 400, 800, 1500]))).date()
            customer = Customer(
                external_id=f"CRM-{number:05d}", name=name, company=company, language=language,
                phone=contacts.normalised_phone(phone, "GB" if london else "CN"),
                email=f"customer{number}@example.com", email_key=f"customer{number}@example.com",
                attributes={"tier": tier, "size": rng.choice(["large", "medium", "small"]),
                            "start_date": started.isoformat(), **({"tags": ["vip"]} if tier == "high" else {})},
                branches=[branch], owner=owner if tier == "high" and not london else None,
            )
            customer.consents = [
                CustomerConsent(channel=ContactChannel.EMAIL, consented_at=now - timedelta(days=30), consent_source="import"),
                CustomerConsent(channel=ContactChannel.SMS, consented_at=now - timedelta(days=30), consent_source="import",
                                opted_out_at=now - timedelta(days=3) if index == 0 else None,
                                opt_out_source="admin" if index == 0 else None),
            ]
            db.session.add(customer)


def _recent_tickets(wanted: int = 8, looked_at: int = 80) -> None:
    """Tickets for the newest negative past responses, opened when they were submitted; their clocks
    then read as of now (some ran out), as the first sweep would leave them."""
    db.session.flush()
    recent = db.session.execute(
        select(Response.id, Response.submitted_at)
        .where(Response.submitted_at.is_not(None))
        .order_by(Response.submitted_at.desc())
        .limit(looked_at)
    ).all()
    opened = 0
    for response_id, submitted_at in recent:
        if opened == wanted:
            break
        if opening.open_from_response(response_id, now=submitted_at) is not None:
            opened += 1
    sla_clocks.refresh_open_tickets()


def _worked_tickets(rng: random.Random, fresh: timedelta = timedelta(days=1)) -> None:
    """Tickets for the negative past responses older than ``fresh``, worked as a team works: most
    answered and resolved in time by their own SLA clocks, some late, a few paused while waiting on
    the customer, a few still open. So the board's and the dashboard's attainment read like a real
    branch's (the tickets of the last day stay as opened)."""
    now = utcnow()
    db.session.flush()
    admin = db.session.scalar(select(User).where(User.role == Role.ADMIN).order_by(User.id))
    older = db.session.execute(
        select(Response.id, Response.submitted_at)
        .where(Response.submitted_at.is_not(None), Response.submitted_at < now - fresh)
        .order_by(Response.submitted_at)
    ).all()
    for response_id, submitted_at in older:
        # The recent tickets opened already are worked too once older than ``fresh``: only the
        # newest stay untouched, for the board's breached and at-risk list.
        ticket = opening.open_from_response(response_id, now=submitted_at)
        if ticket is not None and ticket.first_response_at is None and ticket.status == TicketStatus.NEW:
            _work(rng, ticket, next(iter(queries.assignable_users(ticket)), admin), now)
    sla_clocks.refresh_open_tickets(now=now)


def _work(rng: random.Random, ticket: Ticket, actor: User, now: datetime) -> None:
    """Claim and answer, maybe wait on the customer, resolve, maybe close: each step by the ticket's
    stored due times (in time for most), none after ``now``."""
    def minutes(low: float, high: float) -> timedelta:
        return timedelta(minutes=rng.uniform(low, high))

    def step(at: datetime, action) -> bool:
        if at > now:
            return False
        action(ticket_service.page_version(ticket), at)
        return True

    due = ticket.first_response_due_at or ticket.created_at + timedelta(minutes=30)
    answered = due - minutes(2, 25) if rng.random() < 0.85 else due + minutes(10, 360)
    answered = max(answered, ticket.created_at + minutes(1, 3))
    if not step(answered, lambda seen, at: ticket_service.claim(ticket, actor, seen, now=at)):
        return
    ticket_service.reply(ticket, actor, "您好，非常抱歉给您带来不便，我们正在处理。", ticket_service.page_version(ticket),
                         now=answered)
    last = answered
    if rng.random() < 0.12:
        asked = last + minutes(10, 120)
        if not step(asked, lambda seen, at: ticket_service.change_status(ticket, actor, TicketStatus.WAITING, seen, now=at)):
            return
        last = asked + minutes(60, 1200)
        if not step(last, lambda seen, at: ticket_service.change_status(ticket, actor, TicketStatus.IN_PROGRESS, seen, now=at)):
            return
    if rng.random() < 0.06:
        return  # still being worked on
    due = ticket.resolution_due_at or last + timedelta(hours=48)
    resolved = due - minutes(30, 1800) if rng.random() < 0.9 else due + minutes(60, 1800)
    resolved = max(resolved, last + minutes(5, 60))
    if not step(resolved, lambda seen, at: ticket_service.change_status(ticket, actor, TicketStatus.RESOLVED, seen, now=at)):
        return
    if rng.random() < 0.6:
        step(resolved + minutes(1440, 4320),
             lambda seen, at: ticket_service.change_status(ticket, actor, TicketStatus.CLOSED, seen, now=at))


def _past_responses(rng: random.Random, branches: list[Branch], version_id: int, count: int) -> None:
    plan = plan_for(version_id)
    now = utcnow()
    for _ in range(count):
        branch = rng.choice(branches)
        mood = rng.choices([1, 2, 3, 4, 5], weights=[4, 6, 15, 40, 35])[0]
        started = now - timedelta(days=rng.uniform(0, 60), minutes=rng.uniform(0, 600))
        duration = rng.randint(25, 140)
        values = {
            "product": _near(rng, mood, 1, 5),
            "service": _near(rng, mood, 1, 5),
            "environment": _near(rng, mood, 1, 5),
            "nps": _near(rng, mood * 2, 0, 10),
        }
        if values["service"] <= 3:
            values["service_problem"] = rng.sample(["waiting", "attitude", "knowledge", "after_sales"], rng.randint(1, 2))
        language, comment = rng.choice(COMMENTS)
        if rng.random() < 0.35:
            values["comment"] = comment
        partial = rng.random() < 0.08
        answered = dict(list(values.items())[:2]) if partial else values
        response = Response(
            branch_id=branch.id,
            qr_code_id=branch.qr_codes[0].id,
            version_id=version_id,
            channel=Channel.QR,
            language=language,
            device_id=_uuid(rng),
            idempotency_key=secrets.token_urlsafe(24),
            started_at=started,
            last_answered_at=started + timedelta(seconds=duration),
            furthest_step=2 if partial else 6,
            quality_flags=["too_fast"] if duration < 30 and not partial else [],
        )
        if not partial:
            response.submitted_at = started + timedelta(seconds=duration)
            response.duration_seconds = duration
            response.effort = path_effort(plan, values)[0]
            response.processed_at = response.submitted_at
            if mood <= 2 and rng.random() < 0.5:
                response.contact_consent = True
                response.contact_phone = f"138{rng.randint(10000000, 99999999)}"
                response.reference_code = new_reference_code()
            branch.qr_codes[0].response_count += 1
        branch.qr_codes[0].scan_count += 1
        for key, value in answered.items():
            question = plan.by_key[key]
            response.answers.append(
                Answer(
                    question_id=question.id,
                    value_int=value if isinstance(value, int) else None,
                    value_choices=value if isinstance(value, list) else None,
                    value_text=value if isinstance(value, str) else None,
                )
            )
        db.session.add(response)


def _near(rng: random.Random, centre: int, low: int, high: int) -> int:
    return max(low, min(high, centre + rng.choice([-1, 0, 0, 0, 1])))


def _uuid(rng: random.Random) -> str:
    import uuid

    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def demo_lines() -> list[str]:
    """`login: ROLE USERNAME PASSWORD` and `survey: BRANCH | CODE'S LABEL | KIND: URL` lines, for people and scripts.

    Scripts take the token as what follows the last ``/s/`` of a survey line.
    """
    lines = []
    for username, role, password, *_rest in USERS:
        if db.session.scalar(select(User.id).where(User.username == username)):
            lines.append(f"login: {role.value} {username} {password}")
    codes = db.session.scalars(
        select(QrCode).where(QrCode.revoked_at.is_(None)).options(joinedload(QrCode.branch)).order_by(QrCode.id)
    )
    for qr in codes:
        kind = "kiosk" if qr.is_kiosk else "poster"
        label = f"{qr.label} | " if qr.label else ""
        lines.append(f"survey: {qr.branch.code} {qr.branch.name} | {label}{kind}: {survey_url(qr.token)}")
    return lines
