"""The words staff and customers read for ticket states, SLA timelines and events, in both languages."""
from __future__ import annotations

from datetime import timedelta

from flask_babel import format_timedelta, gettext as _, lazy_gettext as _l

from app.core.calendars import HOLIDAY_LANGUAGES, public_holiday_name
from app.i18n import current_locale, join_list, local_time, text

STATUS_LABELS = {
    "new": _l("New"),
    "in_progress": _l("In progress"),
    "waiting_on_customer": _l("Waiting on customer"),
    "resolved": _l("Resolved"),
    "closed": _l("Closed"),
}
#: What the button that moves a ticket into a status says.
STATUS_ACTIONS = {
    "in_progress": _l("Start / reopen"),
    "waiting_on_customer": _l("Wait for customer"),
    "resolved": _l("Resolve"),
    "closed": _l("Close"),
}
PRIORITY_LABELS = {"urgent": _l("Urgent"), "high": _l("High"), "normal": _l("Normal"), "low": _l("Low")}
#: How a response reached us (app.models.Channel).
CHANNEL_LABELS = {
    "qr": _l("QR code"),
    "kiosk": _l("Kiosk"),
    "link": _l("Survey link"),
    "api": _l("Integration (API)"),
    "staff": _l("Entered by staff"),
}
#: What a long task builds, as its page's title.
JOB_KIND_LABELS = {
    "posters_pdf": _l("All posters (one PDF)"),
    "posters_zip": _l("All posters (ZIP of PDFs)"),
    "responses_csv": _l("Responses (CSV)"),
    "responses_xlsx": _l("Responses (Excel)"),
    "tickets_csv": _l("Tickets (CSV)"),
    "tickets_xlsx": _l("Tickets (Excel)"),
    "customers_import": _l("Customer import"),
}
#: The audit log's words for what was changed and how.
AUDIT_ENTITY_LABELS = {
    "branch": _l("Branch"),
    "qr_code": _l("QR code"),
    "holiday": _l("Holiday"),
    "department": _l("Department"),
    "user": _l("User"),
    "questionnaire": _l("Questionnaire"),
    "questionnaire_version": _l("Questionnaire version"),
    "question": _l("Question"),
    "dimension": _l("Dimension"),
    "skip_rule": _l("Skip rule"),
    "routing_rule": _l("Routing rule"),
    "sla_policy": _l("SLA policy"),
    "escalation_rule": _l("Escalation rule"),
    "status_setting": _l("Status setting"),
    "response": _l("Response"),
    "improvement_action": _l("Improvement action"),
    "api_key": _l("API key"),
    "webhook_endpoint": _l("Webhook endpoint"),
    "customer": _l("Customer"),
    "customer_attribute": _l("Customer attribute"),
    "job_run": _l("Import or export"),
    "ticket": _l("Ticket"),
}
AUDIT_ACTION_LABELS = {
    "create": _l("Created"),
    "update": _l("Changed"),
    "delete": _l("Removed"),
    "publish": _l("Published"),
    "copy": _l("Copied"),
    "archive": _l("Archived"),
    "restore": _l("Restored"),
    "activate": _l("Activated"),
    "deactivate": _l("Deactivated"),
    "rotate": _l("Rotated"),
    "revoke": _l("Revoked"),
    "reorder": _l("Reordered"),
    "invite": _l("Invited"),
    "reset_password": _l("Password reset"),
    "sign_out_everywhere": _l("Signed out everywhere"),
    "confirm": _l("Flag confirmed"),
    "clear": _l("Flag cleared"),
    "erase": _l("Erased"),
    "import": _l("Imported"),
    "export": _l("Exported"),
    "consent": _l("Consent changed"),
}
CATEGORY_LABELS = {
    "product": _l("Product"),
    "service": _l("Service"),
    "communication": _l("Communication"),
    "environment": _l("Environment"),
}
SLA_STATE_LABELS = {
    "on_track": _l("on track"),
    "warning": _l("at risk"),
    "breached": _l("breached"),
    "met": _l("met"),
    "paused": _l("paused"),
}
#: The staff queue's orders a supervisor may choose (keys of app.services.tickets.queries.QUEUE_ORDERS).
QUEUE_ORDER_LABELS = {
    "urgency": _l("Breached, at risk, then soonest due"),
    "due": _l("Soonest due (most overdue first)"),
    "priority": _l("Priority"),
    "newest": _l("Newest first"),
    "oldest": _l("Oldest first"),
}
NOTE_LABELS = {
    "after_hours": _l("outside business hours"),
    "closed_weekday": _l("closed that day"),
    "holiday": _l("holiday"),
    "makeup_workday": _l("make-up working day"),
}


def _note_name(note) -> str:
    """A note's holiday name, a public holiday's in the page's language where the package has it."""
    if note.kind == "holiday" and getattr(note, "region", ""):
        return public_holiday_name(note.region, note.day, HOLIDAY_LANGUAGES.get(current_locale())) or note.name
    return note.name


def _span(delta: timedelta) -> str:
    return format_timedelta(delta, threshold=1.5)


def timeline_label(entry, zone: str) -> str:
    """One line of an SLA explanation, e.g. "counted 09:00–12:00 (3 hours)"."""
    at = local_time(entry.at, zone)
    until = local_time(entry.until, zone) if entry.until else ""
    if entry.kind == "start":
        return _("Clock starts %(at)s", at=at)
    if entry.kind == "due":
        return _("Due %(at)s", at=at)
    if entry.kind == "counted":
        return _("Counted %(at)s – %(until)s (%(span)s)", at=at, until=until, span=_span(entry.duration))
    if entry.kind == "paused":
        status = STATUS_LABELS.get(entry.status, entry.status)
        if entry.until is None:
            return _("Paused since %(at)s: %(status)s", at=at, status=status)
        return _("Paused %(at)s – %(until)s: %(status)s", at=at, until=until, status=status)
    reasons = join_list(  # one closed night spans two days' notes that read the same
        dict.fromkeys(f"{NOTE_LABELS.get(note.kind, note.kind)}{' ' + name if (name := _note_name(note)) else ''}"
                      for note in entry.notes)
    )
    return _("Skipped %(at)s – %(until)s: %(reasons)s", at=at, until=until, reasons=reasons)


#: The two SLA clocks of a ticket.
CLOCK_LABELS = {"first_response": _l("First response"), "resolution": _l("Resolution")}
#: What a rung of the escalation ladder says (codes of app.services.sla.escalations.rung_notice).
NOTICE_LABELS = {
    "due_soon": _l("%(clock)s due soon"),
    "warning_overdue": _l("%(clock)s overdue"),
    "overdue": _l("%(clock)s overdue (level %(level)s)"),
    "escalated": _l("Escalated (level %(level)s): %(clock)s overdue by %(time)s"),
}


def _minutes_span(minutes: int) -> str:
    hours, minutes = divmod(max(int(minutes), 0), 60)
    return _("%(hours)d h %(minutes)d min", hours=hours, minutes=minutes) if hours else _("%(minutes)d min", minutes=minutes)


def notice_label(notice: dict) -> str:
    """A fired rung in the reader's language, e.g. "Resolution overdue (level 1)"."""
    template = NOTICE_LABELS.get(notice.get("code", ""))
    clock = str(CLOCK_LABELS.get(notice.get("clock"), notice.get("clock")))
    if template is None:
        return f"{notice.get('code')} {clock}"
    return str(template) % {
        "clock": clock, "level": notice.get("level", ""), "time": _minutes_span(notice.get("overdue_minutes") or 0),
    }


def _escalation_line(details: dict) -> str:
    receivers = join_list(details.get("receivers") or ()) or _("nobody")
    return _("Escalation level %(level)s: %(notice)s. Notified: %(receivers)s",
             level=details.get("level", ""), notice=notice_label(details.get("notice") or {}), receivers=receivers)


def event_label(event) -> str:
    """One line of a ticket's history (an escalation's worded from its details; one written before them from its body)."""
    details = getattr(event, "details", None) or {}
    label = _event_label(event)
    if event.kind == "escalation" and details.get("notice"):
        return _escalation_line(details)
    if "escalation_level" in details:
        return f"{label} · {_('Escalation level %(level)s', level=details['escalation_level'])}"
    return label


def _event_label(event) -> str:
    kind, old, new = event.kind, event.old_value, event.new_value
    if kind == "status":
        return _("Status: %(old)s → %(new)s", old=STATUS_LABELS.get(old, old or "—"), new=STATUS_LABELS.get(new, new))
    if kind == "priority":
        return _("Priority: %(old)s → %(new)s", old=PRIORITY_LABELS.get(old, old or "—"), new=PRIORITY_LABELS.get(new, new))
    if kind == "assignee":
        return _("Assignee: %(old)s → %(new)s", old=old or "—", new=new or "—")
    if kind == "department":
        return _("Department: %(old)s → %(new)s", old=old or "—", new=new or "—")
    labels = {
        "created": _("Ticket opened"),
        "reply": _("Reply to the customer"),
        "customer_reply": _("The customer answered"),
        "note": _("Internal note"),
        "call": _("Call logged"),
        "reopened": _("Reopened"),
        "callback": _("Call back done"),
        "escalation": _("Escalated"),
        "sla": _("SLA"),
    }
    if kind == "rating":
        return _("The customer rated the handling %(n)s of 5", n=new)
    if kind == "reopened" and event.actor_id is None and event.api_key_id is None and old in ("resolved", "closed"):
        return _("Reopened by the customer's low rating")
    if kind == "burst_response":
        return _("Another unhappy response from the same network address joined this ticket (response %(id)s)", id=new)
    text = labels.get(kind, kind)
    return f"{text}: {new}" if new and kind in ("escalation", "sla") else text

#: How a customer reads their ticket's status.
CUSTOMER_STATUS_LABELS = {
    "new": _l("Received"),
    "in_progress": _l("We are working on it"),
    "waiting_on_customer": _l("Waiting for your reply"),
    "resolved": _l("Resolved"),
    "closed": _l("Closed"),
    "pending": _l("Received: we are reading it"),
    "received": _l("Received: thank you, no follow-up was needed"),
}

#: Routing's reasons (codes of app.core.routing.REASON_TEXTS) in the reader's language, with the same values.
REASON_LABELS = {
    "low_csat": _l("%(question)s: CSAT %(score)s ≤ %(limit)s"),
    "low_nps": _l("%(question)s: NPS %(score)s ≤ %(limit)s"),
    "complaint": _l("complaint word “%(keyword)s” in %(question)s"),
    "category_keyword": _l("word “%(keyword)s” → %(category)s"),
    "category_score": _l("%(question)s: CSAT %(score)s → %(category)s"),
    "no_category": _l("no word and no low score points to a category"),
    "rule_matched": _l("rule %(position)s “%(name)s” → %(department)s, %(priority)s"),
    "condition_answer": _l("%(question)s %(operator)s %(value)s (answer: %(answer)s)"),
    "condition_category": _l("category is %(category)s"),
    "condition_branch": _l("branch is %(branch)s"),
    "condition_region": _l("region is %(region)s"),
    "condition_keyword": _l("word “%(keyword)s” in %(question)s"),
    "set_category": _l("category set to %(category)s"),
    "no_rule": _l("no rule matched → %(department)s, %(priority)s"),
    "urgent_keyword": _l("urgent word “%(keyword)s” in %(question)s → urgent"),
    "very_low_csat": _l("%(question)s: CSAT %(score)s ≤ %(limit)s → high"),
    "department_missing": _l("department %(department)s is missing or inactive → %(triage)s"),
}
#: The names app.core.routing.DEFAULT_RULES are stored with: shown in the reader's language until an admin renames them.
DEFAULT_RULE_NAMES = {
    "Product problems": _l("Product problems"),
    "Service problems": _l("Service problems"),
    "Communication problems": _l("Communication problems"),
    "Environment problems": _l("Environment problems"),
}


def rule_name(name: str | None) -> str:
    """A routing rule's name as the reader reads it: a default rule's in their language, an admin's own as written."""
    return str(DEFAULT_RULE_NAMES.get(name, name)) if name else ""


def reason_label(
    code: str, params, department_names: dict[str, str], question_names: dict[str, str] | None = None
) -> str:
    """One routing reason in the reader's language: categories, priorities, departments and questions by their names."""
    params = dict(params)
    for name, words in (("category", CATEGORY_LABELS), ("priority", PRIORITY_LABELS)):
        if name in params:
            params[name] = str(words.get(str(params[name]), params[name]))
    for name in ("department", "triage"):
        if name in params:
            params[name] = department_names.get(str(params[name]), params[name])
    if "question" in params and question_names:
        params["question"] = question_names.get(str(params["question"]), params["question"])
    if "name" in params:
        params["name"] = rule_name(str(params["name"]))
    template = REASON_LABELS.get(code)
    if template is None:
        return f"{code} {params}"
    try:
        return str(template) % params
    except (KeyError, TypeError, ValueError):  # a stored reason of another version's params
        return f"{code} {params}"


def routing_reasons(
    stored, department_names: dict[str, str], question_names: dict[str, str] | None = None
) -> list[str]:
    """A ticket's stored reasons (``ticket.routing["reasons"]``), worded now.

    They are stored as codes with values ({"code": …, "params": {…}}); tickets opened before
    that hold English sentences, which are shown as they were stored.
    """
    return [
        reason_label(reason.get("code", ""), reason.get("params") or {}, department_names, question_names)
        if isinstance(reason, dict) else str(reason)
        for reason in stored or []
    ]


def ticket_subject(ticket) -> str:
    """What a ticket is about, in a line, in the reader's language.

    A staff member's subject, or the customer's own words, is stored as written; a survey ticket
    whose customer wrote nothing keeps the ticked options' labels and the low scores as parts
    (``ticket.routing["subject"]``, from app.services.tickets.opening) worded here; tickets
    opened before that keep their stored subject.
    """
    if ticket.subject:
        return ticket.subject
    parts = [_subject_part(part) for part in (ticket.routing or {}).get("subject") or []]
    if parts := [part for part in parts if part]:
        return join_list(parts)
    if ticket.category in CATEGORY_LABELS:
        return str(CATEGORY_LABELS[ticket.category])
    return _("Feedback")


def _subject_part(part: dict) -> str:
    """One part of a survey ticket's subject: an option's label, or a low score of a category or a question."""
    if "option" in part:
        return text(part["option"])
    if "score" in part:
        what = str(CATEGORY_LABELS[part["category"]]) if part.get("category") in CATEGORY_LABELS else text(part.get("question"))
        return _("%(what)s %(score)s/%(of)s", what=what, score=part["score"], of=part.get("of", 5))
    return ""
#: What is wrong with a customer's value (app.core.contacts.PROBLEM_CODES): at a form's field and in an
#: import's row problems, which are stored as codes and worded here when read.
CONTACT_PROBLEMS = {
    "phone_invalid": _l("Not a valid phone number (add the country code, e.g. +44, for a number abroad)."),
    "email_invalid": _l("Not a valid e-mail address."),
    "too_long": _l("Too long."),
    "number_invalid": _l("Not a number."),
    "date_invalid": _l("Not a date (write it as 2024-03-01)."),
    "choice_unknown": _l("Not one of the attribute's choices."),
    "language_unknown": _l("Not a language Loopdesk speaks (Simplified Chinese, English, Traditional Chinese)."),
    "branch_unknown": _l("No branch has this code or name."),
    "owner_unknown": _l("No active user has this username."),
    "consent_unclear": _l("Write yes or no (是/否)."),
    "no_identity": _l("The row has no external id, phone or e-mail: nothing to find the customer by."),
    "external_id_taken": _l("Another customer has this external id."),
}
#: What can be wrong with a whole import file (app.services.customers.tables.FILE_PROBLEMS).
IMPORT_FILE_PROBLEMS = {
    "empty": _l("The file is empty."),
    "too_big": _l("The file is too large (at most %(mb)s MB)."),
    "not_a_table": _l("This is not a table: upload a CSV file or an Excel workbook (.xlsx)."),
    "encoding": _l("The file's text is neither UTF-8 nor GB18030: save it again as CSV UTF-8."),
    "old_excel": _l("Old Excel files (.xls) cannot be read: save it as .xlsx or CSV."),
    "no_rows": _l("The file has a header but no rows."),
}
#: The customer fields an import column can fill (app.core.contacts.FIELDS).
CUSTOMER_FIELD_LABELS = {
    "external_id": _l("External id (CRM)"),
    "name": _l("Name"),
    "company": _l("Company"),
    "phone": _l("Phone"),
    "email": _l("E-mail"),
    "language": _l("Preferred language"),
    "branch": _l("Branch (code or name)"),
    "owner": _l("Account owner (username)"),
    "consent_email": _l("Consent: e-mail"),
    "consent_sms": _l("Consent: text message"),
    "consent_phone": _l("Consent: phone call"),
}
#: The ways a customer may be contacted.
CONTACT_CHANNEL_LABELS = {"email": _l("E-mail"), "sms": _l("Text message"), "phone": _l("Phone call")}
#: The types of attribute an admin can define.
ATTRIBUTE_TYPE_LABELS = {
    "text": _l("Text"), "number": _l("Number"), "date": _l("Date"), "choice": _l("One of a list"),
    "tags": _l("Tags (several words)"),
}
#: Where a customer's consent or opt-out came from.
CONSENT_SOURCE_LABELS = {
    "import": _l("Import"), "admin": _l("Entered by staff"), "api": _l("CRM (API)"), "survey": _l("Survey"),
}
