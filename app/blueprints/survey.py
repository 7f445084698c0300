"""The customer's survey at /s/<token>: one step per screen, htmx-enhanced, works without JS."""
from __future__ import annotations

import base64
import re
import secrets
import uuid
from datetime import datetime, timezone

from flask import Blueprint, abort, current_app, g, redirect, render_template, request, session, url_for
from flask_htmx import make_response as htmx_response
from jinja2_fragments.flask import render_block
from sqlalchemy.exc import SQLAlchemyError

from app.blueprints.errors import answer_database_error
from app.core.quality import source_key
from app.extensions import db, htmx, limiter
from app.forms.survey import KEY_PATTERN, build_step_form
from app.i18n import current_locale
from app.jobs import enqueue
from app.jobs.responses import response_submitted
from app.services.branches import qr_codes
from app.services.survey import submitting
from app.services.survey.entries import branch_language, open_survey, SurveyEntry, SurveyUnavailable, Unavailable
from app.models import QuestionType
from app.models.busy import retrying_when_busy
from app.rate_limits import RequestLimit, RequestLimits
from app.services.survey.submitting import AlreadySubmitted, StepInput
from app.services.tickets import customer_messages

bp = Blueprint("survey", __name__)

DEVICE_COOKIE = "ld_device"
DEVICE_COOKIE_AGE = 400 * 86400
#: How many surveys (QR tokens) one browser keeps a draft for at a time.
MAX_DRAFTS_PER_BROWSER = 5


def _device_key() -> str:
    return f"device:{request.cookies.get(DEVICE_COOKIE, '')}"


def _no_device_cookie() -> bool:
    """A first visit has no cookie yet: only the per-address limit applies to it."""
    return not _valid_uuid(request.cookies.get(DEVICE_COOKIE, ""))


def _address_key() -> str:
    return f"address:{request.remote_addr}"


def _valid_uuid(value: str) -> bool:
    try:
        return str(uuid.UUID(value)) == value
    except ValueError:
        return False


#: Both limits in one storage round trip (app/rate_limits.py), in Flask-Limiter's keys.
limited = RequestLimits(
    RequestLimit(
        "LOOPDESK_SURVEY_LIMIT_PER_DEVICE",
        scope="survey-device",
        key=_device_key,
        methods=frozenset({"POST"}),  # answers are what a flood would store; pages are covered per address
        exempt_when=_no_device_cookie,
    ),
    RequestLimit("LOOPDESK_SURVEY_LIMIT_PER_ADDRESS", scope="survey-address", key=_address_key),
)


@limiter.request_filter
def _limited_by_the_survey_itself() -> bool:
    """Flask-Limiter skips the survey's requests: `limited` counts them (it has no other limit for them)."""
    return request.blueprint == bp.name


@bp.before_request
def identify_device() -> None:
    device = request.cookies.get(DEVICE_COOKIE, "")
    g.device_id = device if _valid_uuid(device) else str(uuid.uuid4())
    g.new_device = device != g.device_id


@bp.after_request
def no_store(response):
    """Survey pages are never cached: the back button must not show a previous customer's answers."""
    response.headers["Cache-Control"] = "no-store"
    response.vary.add("HX-Request")
    if g.get("new_device"):
        response.set_cookie(
            DEVICE_COOKIE, g.device_id, max_age=DEVICE_COOKIE_AGE, httponly=True, samesite="Lax",
            secure=current_app.config["LOOPDESK_FORCE_HTTPS"],
        )
    return response


@bp.errorhandler(SQLAlchemyError)
def database_error(error: SQLAlchemyError):
    """The database away (503): the page says what became of the customer's answers."""
    return answer_database_error(error, survey=_answers_kept())


def _answers_kept() -> str:
    """"submitted", "saved" (this step was committed), "not_saved" (it was not: send it again),
    "draft" (earlier steps are stored) or "none"."""
    token = (request.view_args or {}).get("token", "")
    if request.method == "POST":
        return "saved" if g.get("database_committed") else "not_saved"
    done = session.get("thanks") or {}
    if request.endpoint == "survey.thanks" and done.get("token") == token:
        return "submitted"
    return "draft" if token in session.get("drafts", {}) else "none"


def _drafts() -> dict:
    return session.setdefault("drafts", {})


def _draft_ref(token: str, create: bool) -> dict | None:
    """The browser's draft for this survey: the idempotency key, when it started and whether the survey link
    (not a scan) opened it."""
    drafts = _drafts()
    ref = drafts.get(token)
    if ref is None and create:
        while len(drafts) >= MAX_DRAFTS_PER_BROWSER:
            drafts.pop(next(iter(drafts)))
        ref = {"key": secrets.token_urlsafe(24), "t": int(datetime.now(timezone.utc).timestamp())}
        if request.args.get(qr_codes.LINK_ARG) == qr_codes.LINK_VALUE:
            ref["link"] = 1
        drafts[token] = ref
        session.permanent = True  # a phone that closes the browser can still finish later
        session.modified = True
    return ref


def _forget_draft(token: str) -> None:
    if _drafts().pop(token, None) is not None:
        session.modified = True


@bp.url_value_preprocessor
def _branch_language(endpoint: str | None, values: dict | None) -> None:
    """Before the locale is chosen: the branch's language, for a phone that asks for none we have."""
    token = (values or {}).get("token")
    if isinstance(token, str):
        g.branch_locale = branch_language(token)


def _open(token: str) -> SurveyEntry:
    # PostgreSQL refuses a NUL in a query parameter: no code can hold one.
    if len(token) > 64 or "\x00" in token:
        raise SurveyUnavailable(Unavailable.UNKNOWN)
    return open_survey(token)


def _render(template: str, block: str, status: int = 200, push_url: str | None = None, **context):
    """The whole page, or for an htmx request only the block that changes."""
    if htmx and not htmx.boosted and not htmx.history_restore_request:
        html = render_block(template, block, **context)
        return htmx_response(html, status, push_url=push_url) if push_url else (html, status)
    return render_template(template, **context), status


@bp.get("/s/<token>")
@limited
def show(token: str):
    try:
        entry = _open(token)
    except SurveyUnavailable as error:
        return _unavailable(error)
    ref = _draft_ref(token, create=False)
    draft = submitting.read_draft(ref["key"]) if ref else None
    if ref is not None and draft is not None and draft.submitted_at is not None:
        _forget_draft(token)
        ref, draft = None, None
    plan = submitting.plan_of(entry, draft)
    if plan is None:
        return _unavailable(SurveyUnavailable(Unavailable.CLOSED, entry.branch_name))
    if ref is None:
        session.pop("thanks", None)
        ref = _draft_ref(token, create=True)
        retrying_when_busy(lambda: _commit_after(submitting.count_scan, entry), "count a scan")
    return _step_page(entry, plan, ref["key"], draft, asked=request.args.get("step", type=int))


def _step_page(entry: SurveyEntry, plan, key: str, draft, asked: int | None, push: bool = False):
    """The step the customer asked for if it is open to them, else the first unfinished one."""
    answers = submitting.answers_of(draft, plan)
    steps = plan.visible_steps(answers)
    next_step = plan.next_step(answers, draft.furthest_step if draft else 0)
    step = asked if asked in steps and (next_step is None or asked <= next_step) else next_step or steps[-1]
    form = build_step_form(plan.questions_on(step, answers))
    form.key.data = key
    form.step.data = step
    _fill(form, answers, draft)
    push_url = url_for("survey.show", token=entry.token, step=step) if push else None
    return _render("survey/step.html", "step", push_url=push_url, **_step_context(entry, plan, form, step, steps))


def _fill(form, answers, draft) -> None:
    for question in form.questions:
        if question.type == QuestionType.CONTACT:
            if draft is not None:
                form[form.field_name(question, "name")].data = draft.contact_name
                form[form.field_name(question, "phone")].data = draft.contact_phone
                form[form.field_name(question, "email")].data = draft.contact_email
                form[form.field_name(question, "consent")].data = draft.contact_consent
        elif question.key in answers:
            value = answers[question.key]
            if question.type == QuestionType.SINGLE and isinstance(value, list):
                value = value[0] if value else None
            form[form.field_name(question)].data = value


def _step_context(entry, plan, form, step, steps) -> dict:
    index = steps.index(step)
    return {
        "entry": entry,
        "plan": plan,
        "form": form,
        "step": step,
        "step_number": index + 1,
        "step_count": len(steps),
        "previous_step": steps[index - 1] if index > 0 else None,
        "is_last": index == len(steps) - 1,
    }


@bp.post("/s/<token>")
@limited
def answer(token: str):
    try:
        entry = _open(token)
    except SurveyUnavailable as error:
        return _unavailable(error)
    key = request.form.get("key", "")
    draft = submitting.read_draft(key) if re.match(KEY_PATTERN, key) else None
    if draft is not None and draft.qr_code_id != entry.qr_id:
        abort(400)
    if draft is not None and draft.submitted_at is not None:
        return _to_thanks(token, key)  # the reply to the submit was lost, or a second tap
    plan = submitting.plan_of(entry, draft)
    if plan is None:
        return _unavailable(SurveyUnavailable(Unavailable.CLOSED, entry.branch_name))
    answers = submitting.answers_of(draft, plan)
    steps = plan.visible_steps(answers)
    next_step = plan.next_step(answers, draft.furthest_step if draft else 0)
    step = request.form.get("step", type=int)
    if step not in steps or (next_step is not None and step > next_step):
        # A replayed or forged step that is not open now: show where the customer really is.
        return _see_other(url_for("survey.show", token=token))
    form = build_step_form(plan.questions_on(step, answers), formdata=request.form)
    if not form.validate():
        return _render("survey/step.html", "step", 422, **_step_context(entry, plan, form, step, steps))
    ref = _draft_ref(token, create=False) or {}
    if ref.get("key") != key:
        ref = {}
    now = datetime.now(timezone.utc)
    started = datetime.fromtimestamp(ref["t"], timezone.utc) if ref else now
    data = StepInput(
        key=form.key.data,
        device_id=g.device_id,
        started_at=started,
        language=current_locale(),
        step=step,
        values=form.answer_values(),
        contact=form.contact_details(),
        channel=submitting.channel_of(entry, opened_by_link=bool(ref.get("link"))),
    )
    try:
        draft, submitted = retrying_when_busy(
            lambda: _commit_after(submitting.save_step, entry, plan, data, draft), "save a survey step"
        )
    except AlreadySubmitted:
        db.session.rollback()
        return _to_thanks(token, key)  # a concurrent submit of the same draft won
    if submitted:
        enqueue(response_submitted, draft.id, source_key(request.remote_addr, current_app.secret_key))
        return _to_thanks(token, key)
    if htmx:
        return _step_page(entry, plan, key, draft, asked=None, push=True)
    return _see_other(url_for("survey.show", token=token))


def _commit_after(write, *args):
    """``write(*args)`` then commit: one unit of work, run again whole when SQLite was busy."""
    result = write(*args)
    db.session.commit()
    return result


def _see_other(target: str):
    """Post/Redirect/Get; htmx ignores headers on a 3xx, so it gets HX-Location instead."""
    if htmx:
        return htmx_response("", 200, location={"path": target, "target": "#survey-step", "swap": "outerHTML", "select": "#survey-step"})
    return redirect(target, 303)


def _to_thanks(token: str, key: str):
    """To the thank-you page of the response this draft key made (it reads the code from there)."""
    session["thanks"] = {"token": token, "key": key}
    _forget_draft(token)
    target = url_for("survey.thanks", token=token)
    if htmx:
        return htmx_response("", 200, redirect=target)
    return redirect(target, 303)


@bp.get("/s/<token>/thanks")
@limited
def thanks(token: str):
    try:
        entry = _open(token)
    except SurveyUnavailable as error:
        return _unavailable(error)
    done = session.get("thanks") or {}
    follow = None
    if done.get("token") == token and isinstance(done.get("key"), str):
        follow = submitting.follow_up_of(done["key"], entry.qr_id)
    plan = submitting.plan_of(entry, None)
    config = current_app.config
    status_url = status_qr = None
    if follow is not None and follow.secret:
        status_url = customer_messages.status_link(follow.reference_code, follow.secret, config["LOOPDESK_BASE_URL"])
        if entry.is_kiosk:  # the customer leaves the tablet behind: their phone scans the link
            status_qr = "data:image/svg+xml;base64," + base64.b64encode(qr_codes.qr_svg(status_url)).decode()
    restart_seconds = None
    if entry.is_kiosk:
        restart_seconds = entry.kiosk_restart_seconds or config["LOOPDESK_KIOSK_RESTART_SECONDS"]
        if follow is not None:
            restart_seconds = max(restart_seconds, config["LOOPDESK_KIOSK_CODE_SECONDS"])
    return render_template(
        "survey/thanks.html",
        entry=entry,
        plan=plan,
        reference_code=follow.reference_code if follow else None,
        status_url=status_url,
        status_qr=status_qr,
        restart_seconds=restart_seconds,
    )


def _unavailable(error: SurveyUnavailable):
    return render_template("survey/unavailable.html", reason=error.reason.value, branch_name=error.branch_name), (
        404 if error.reason == Unavailable.UNKNOWN else 410
    )
