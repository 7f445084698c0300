"""Routing rules and their "try it" box: which rule matches a response, and where its ticket would go."""
from __future__ import annotations

from dataclasses import dataclass

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app import labels
from app.core.ids import id_or_none
from app.core.routing import DEFAULT_RULES, Rule
from app.extensions import db
from app.forms.admin_routing import OPERATOR_LABELS, PastedAnswersForm, PickedResponseForm, RuleForm
from app.i18n import local_time
from app.models import Branch, Department, Response, RoutingRule
from app.services import routing as routing_rules
from app.services.routing import editor as routing_editor, stored as routing_stored, try_it as routing_try_it
from app.services.tickets import opening
from app.services.routing.editor import RuleError
from app.services.survey.plans import plan_for

bp = Blueprint("routing", __name__, url_prefix="/routing")

TRIGGER_CODES = ("low_csat", "low_nps", "complaint")


def _departments() -> list[Department]:
    return list(db.session.scalars(db.select(Department).order_by(Department.name)))


def _department_names() -> dict[str, str]:
    return {d.code: d.name for d in _departments()}


@dataclass(frozen=True)
class Outcome:
    """What the "try it" box shows for one response."""

    route: routing_rules.TicketRoute | None
    triggers: list[str]
    reasons: list[str]
    #: The decision named a department that is missing or inactive: the ticket goes to triage.
    fell_back: bool


def outcome_of(route: routing_rules.TicketRoute | None) -> Outcome:
    if route is None:
        return Outcome(None, [], [], False)
    names = _department_names()
    decision = route.decision
    return Outcome(
        route,
        triggers=[labels.reason_label(r.code, r.params, names) for r in decision.reasons if r.code in TRIGGER_CODES],
        reasons=[labels.reason_label(r.code, r.params, names) for r in decision.reasons if r.code not in TRIGGER_CODES],
        fell_back=route.department.code != decision.department,
    )


def rule_summary(rule: RoutingRule | Rule) -> str:
    """"When service ≤ 2 and branch is SH-PEOPLE": a stored or default rule's conditions in words."""
    conditions = [
        (c["question"], c["operator"], c.get("value", "")) if isinstance(c, dict) else (c.question, c.operator, c.value)
        for c in rule.conditions or []
    ]
    parts = [f"{question} {OPERATOR_LABELS.get(operator, operator)} {value}".strip() for question, operator, value in conditions]
    if rule.categories:
        names = " / ".join(str(labels.CATEGORY_LABELS.get(c, c)) for c in sorted(rule.categories))
        parts.append(_("category is %(c)s", c=names))
    if rule.branch_codes:
        parts.append(_("branch is %(b)s", b=" / ".join(sorted(rule.branch_codes))))
    if rule.regions:
        parts.append(_("region is %(r)s", r=" / ".join(sorted(rule.regions))))
    if rule.keywords:
        parts.append(_("the comment mentions %(k)s", k=" / ".join(rule.keywords)))
    if not parts:
        return _("When: any negative response (no condition)")
    return _("When: %(conditions)s", conditions=_(" and ").join(parts))


# --- The list --------------------------------------------------------------------------------


@bp.get("/")
def index():
    stored = routing_stored.rules_are_stored()
    return render_template(
        "admin/routing/index.html",
        stored=stored,
        rows=routing_editor.rule_list() if stored else [],
        defaults=DEFAULT_RULES if not stored else (),
        missing=routing_editor.missing_default_departments() if not stored else [],
        department_names=_department_names(),
        rule_summary=rule_summary,
    )


@bp.post("/store-defaults")
def store_defaults():
    if routing_editor.store_defaults(current_user):
        db.session.commit()
        flash(_("The default rules are stored: edit them, reorder them or add your own."))
    elif not routing_stored.rules_are_stored():
        flash(_("The default rules send tickets to departments that do not exist: %(codes)s. Create them "
                "first, or add your own rules.", codes=", ".join(routing_editor.missing_default_departments())),
              "error")
    return redirect(url_for(".index"), 303)


def _rule_or_404(rule_id: int) -> RoutingRule:
    rule = db.session.get(RoutingRule, rule_id)
    if rule is None:
        abort(404)
    return rule


@bp.post("/<id:rule_id>/move")
def move(rule_id: int):
    rule = _rule_or_404(rule_id)
    if routing_editor.move_rule(current_user, rule, -1 if request.form.get("direction") == "up" else 1):
        db.session.commit()
        flash(_("Rule “%(name)s” moved to place %(n)d.", name=rule.name, n=rule.position))
    return redirect(url_for(".index", _anchor=f"rule-{rule.id}"), 303)


@bp.post("/<id:rule_id>/activate")
def activate(rule_id: int):
    return _set_active(_rule_or_404(rule_id), True)


@bp.post("/<id:rule_id>/deactivate")
def deactivate(rule_id: int):
    return _set_active(_rule_or_404(rule_id), False)


def _set_active(rule: RoutingRule, active: bool):
    routing_editor.set_rule_active(current_user, rule, active)
    db.session.commit()
    flash(_("Rule “%(name)s” is on.", name=rule.name) if active else _("Rule “%(name)s” is off: it is skipped.", name=rule.name))
    return redirect(url_for(".index", _anchor=f"rule-{rule.id}"), 303)


# --- The editor ------------------------------------------------------------------------------


@bp.route("/new", methods=["GET", "POST"])
def new():
    return _editor(None)


@bp.route("/<id:rule_id>", methods=["GET", "POST"])
def edit(rule_id: int):
    return _editor(_rule_or_404(rule_id))


def _editor(rule: RoutingRule | None):
    form = RuleForm()
    branches = list(db.session.scalars(db.select(Branch).order_by(Branch.name)))
    regions = sorted({b.region for b in branches if b.region})
    form.fill_choices(_departments(), branches, regions, rule)
    form.try_response_id.choices = _response_choices(
        routing_try_it.recent_responses(), request.form.get("try_response_id")
    )
    if rule is not None and request.method == "GET":
        form.fill_from(rule)
    status, tried, warnings = 200, None, {}
    if request.method == "POST" and form.validate():
        fields = form.rule_fields()
        errors = routing_editor.rule_errors(fields, rule.position if rule else 1)
        warnings = routing_editor.rule_warnings(fields)
        if errors:
            _show_errors(form, errors)
        elif request.form.get("action") == "try":
            tried = _try_unsaved(form, fields, rule)
        elif warnings and not form.confirm.data:
            status = 422
        else:
            try:
                saved = (
                    routing_editor.update_rule(current_user, rule, fields) if rule is not None
                    else routing_editor.create_rule(current_user, fields, at_top=form.place.data != "bottom")
                )
            except RuleError as error:
                _show_errors(form, error.errors)
            else:
                db.session.commit()
                flash(_("Rule “%(name)s” saved.", name=saved.name))
                return redirect(url_for(".index", _anchor=f"rule-{saved.id}"), 303)
    if form.errors:
        status = 422
    form.add_blank_condition()
    return render_template(
        "admin/routing/edit.html", form=form, rule=rule, warnings=warnings, tried=tried,
        stored=routing_stored.rules_are_stored(), known_questions=sorted(routing_editor.known_question_keys()),
    ), status


def _show_errors(form: RuleForm, errors: dict) -> None:
    for name, message in errors.items():
        field = getattr(form, name, None)
        if field is not None and hasattr(field, "errors"):
            field.errors = [*field.errors, message] if isinstance(field.errors, list) else [message]
        else:
            form.name.errors = [*form.name.errors, message]


def _try_unsaved(form: RuleForm, fields: routing_editor.RuleFields, rule: RoutingRule | None):
    """The stored rules with this unsaved one in its place, tried on the chosen response."""
    response_id = id_or_none(form.try_response_id.data or "")
    response = routing_try_it.submitted_response(response_id) if response_id is not None else None
    if response is None:
        form.try_response_id.errors = [*form.try_response_id.errors, _("Choose a response to try.")]
        return None
    unsaved = routing_editor.unsaved_rule(fields, rule, at_top=form.place.data != "bottom")
    routed = opening.routed_response(response, plan_for(response.version_id))
    outcome = outcome_of(routing_rules.decide(routed, routing_stored.rules_with(unsaved, rule.id if rule else None)))
    matched = outcome.route is not None and outcome.route.decision.rule == unsaved
    return {"response": response, "outcome": outcome, "matched_this_rule": matched}


# --- Try it ----------------------------------------------------------------------------------


def _response_label(response: Response, ticket_code: str | None) -> str:
    when = local_time(response.submitted_at, response.branch.timezone)
    label = f"#{response.id} · {response.branch.code} · {when} · {routing_try_it.response_summary(response)}"
    return f"{label} · {_('ticket')} {ticket_code}" if ticket_code else label


def _response_choices(recent: list[Response], wanted: str | None) -> list[tuple[str, str]]:
    """The recent responses, and the one asked for when it is older (a link may name any)."""
    if id_or_none(wanted) is not None and all(str(r.id) != wanted for r in recent):
        older = routing_try_it.submitted_response(id_or_none(wanted))
        if older is not None:
            recent = [older, *recent]
    codes = routing_try_it.ticket_codes_of_responses([r.id for r in recent])
    return [("", _("— choose a response —"))] + [(str(r.id), _response_label(r, codes.get(r.id))) for r in recent]


@bp.get("/try")
def try_it():
    """Pick a recent response or type answers; see the rule that matches and where the ticket goes."""
    picked = PickedResponseForm(request.args if "response_id" in request.args else None)
    picked.response_id.choices = _response_choices(routing_try_it.recent_responses(), request.args.get("response_id"))
    pasted = PastedAnswersForm(request.args if "version_id" in request.args else None)
    versions = routing_try_it.published_versions()
    branches = list(db.session.scalars(db.select(Branch).order_by(Branch.name)))
    pasted.version_id.choices = [
        (str(v.id), f"{v.questionnaire.code} v{v.number}") for v in versions
    ]
    pasted.branch_id.choices = [(str(b.id), f"{b.name} ({b.code})") for b in branches]
    result, status = None, 200
    if "response_id" in request.args and picked.validate():
        response = routing_try_it.submitted_response(int(picked.response_id.data))
        routed = opening.routed_response(response, plan_for(response.version_id))
        result = {
            "response": response,
            "outcome": outcome_of(routing_rules.decide(routed)),
            "ticket": routing_try_it.ticket_of_response(response.id),
        }
    elif "version_id" in request.args and pasted.validate():
        branch = db.session.get(Branch, int(pasted.branch_id.data))
        try:
            routed = routing_try_it.pasted_response(
                plan_for(int(pasted.version_id.data)), branch, pasted.answers.data or "", pasted.comment.data or ""
            )
        except RuleError as error:
            for name, message in error.errors.items():
                getattr(pasted, name).errors = [*getattr(pasted, name).errors, message]
            status = 422
        else:
            result = {"response": None, "outcome": outcome_of(routing_rules.decide(routed)), "ticket": None}
    if picked.errors or pasted.errors:
        status = 422
    return render_template(
        "admin/routing/try.html", picked=picked, pasted=pasted, result=result,
        stored=routing_stored.rules_are_stored(),
    ), status
