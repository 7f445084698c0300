"""What every page of the builder shares: loading from the URL, the published-version guard, Post/Redirect/Get,
and asking to confirm a change that switches what QR codes open."""
from __future__ import annotations

from dataclasses import dataclass
from functools import wraps

from flask import abort, flash, redirect, request, url_for
from flask_babel import lazy_gettext as _l
from flask_htmx import make_response as htmx_response

from app.core.questionnaire_checks import Problem
from app.extensions import db, htmx
from app.forms.admin_questionnaires.words import add_problems, problem_message
from app.models import PublishedVersionError, Questionnaire, QuestionnaireVersion
from app.services.questionnaires import queries
from app.services.questionnaires.serving import CodeSwitch, Preview
from app.services.questionnaires.refusals import Refused

PUBLISHED_REFUSAL = _l("This version is published and cannot change; make a new draft from it.")
EDITOR = "admin/questionnaires/version.html"


def see_other(target: str):
    """Post/Redirect/Get; htmx ignores headers on a 3xx, so it gets HX-Redirect instead."""
    if htmx:
        return htmx_response("", 200, redirect=target)
    return redirect(target, 303)


def questionnaire_or_404(qid: int) -> Questionnaire:
    questionnaire = db.session.get(Questionnaire, qid)
    if questionnaire is None:
        abort(404)
    return questionnaire


def version_or_404(qid: int, vid: int) -> QuestionnaireVersion:
    version = queries.version_with_children(vid)
    if version is None or version.questionnaire_id != qid:
        abort(404)
    return version


def editor_url(qid: int, vid: int, anchor: str | None = None) -> str:
    return url_for("admin.questionnaires.version", qid=qid, vid=vid, _anchor=anchor)


def edits_draft(view):
    """Load the version of the URL; refuse (flash, back to its page) when it is published.

    PublishedVersionError from anywhere inside (the flush guard) is refused the same way,
    so no route can change a published version or fail with a 500 trying.
    """

    @wraps(view)
    def wrapper(qid: int, vid: int, **kwargs):
        version = version_or_404(qid, vid)
        if version.is_published:
            return _refuse_published(qid, vid)
        try:
            return view(version, **kwargs)
        except PublishedVersionError:
            db.session.rollback()
            return _refuse_published(qid, vid)

    return wrapper


def _refuse_published(qid: int, vid: int):
    flash(str(PUBLISHED_REFUSAL), "error")
    return see_other(editor_url(qid, vid))


def child_or_404(model, child_id: int, version: QuestionnaireVersion):
    child = db.session.get(model, child_id)
    if child is None or child.version_id != version.id:
        abort(404)
    return child


def apply(form, change, add=add_problems) -> tuple[bool, object]:
    """Run ``change`` when the form is valid and commit it; a refused change puts its problems at the fields."""
    if not form.validate():
        return False, None
    try:
        result = change()
    except Refused as refused:
        db.session.rollback()
        add(form, refused.problems)
        return False, None
    db.session.commit()
    return True, result


def messages(problems: list[Problem]) -> dict[str, list[str]]:
    grouped: dict[str, list[str]] = {}
    for problem in problems:
        grouped.setdefault(problem.field, []).append(problem_message(problem))
    return grouped


@dataclass(frozen=True)
class Confirmation:
    """What a change would switch, shown beside the form that makes it: the same fields posted again, with
    the fingerprint of this list, so a confirmation given for one list never applies another."""

    section: str
    switches: list[CodeSwitch]
    fingerprint: str
    action: str
    resubmit: list[tuple[str, str]]
    stale: bool


def seen_fingerprint() -> str:
    return request.form.get("seen", "") if request.method == "POST" else ""


def needs_confirmation(preview: Preview, always: bool = False) -> bool:
    """True until the admin confirms the list they saw; a change that switches nothing needs no confirmation
    unless ``always`` (publishing)."""
    if not preview.switches and not always:
        return False
    return seen_fingerprint() != preview.fingerprint


def confirmation(section: str, preview: Preview, action: str) -> Confirmation:
    resubmit = [(k, v) for k, v in request.form.items(multi=True) if k not in ("csrf_token", "seen")]
    return Confirmation(section, preview.switches, preview.fingerprint, action, resubmit, stale=bool(seen_fingerprint()))
