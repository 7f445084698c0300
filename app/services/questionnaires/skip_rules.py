"""A draft's skip rules: which answer shows or skips which later question."""
from __future__ import annotations

from dataclasses import dataclass

from app.core import questionnaire_checks as checks
from app.core.questionnaire_checks import Problem, RuleSpec
from app.extensions import db
from app.models import QuestionnaireVersion, RuleAction, SkipRule, User
from app.services import audit
from app.services.questionnaires.queries import spec_of
from app.services.questionnaires.refusals import Refused, RULE_FORM_FIELDS
from app.services.questionnaires.versions import ensure_draft

RULE_FIELDS = ("source_question_id", "operator", "value", "action", "target_question_id")


@dataclass(frozen=True)
class RuleInput:
    source_id: int
    operator: str
    value: str
    action: str
    target_id: int


def add_rule(actor: User, version: QuestionnaireVersion, data: RuleInput) -> SkipRule:
    ensure_draft(version)
    _check_rule(version, "new", data)
    rule = SkipRule(
        position=max((r.position for r in version.rules), default=-1) + 1,
        source_question_id=data.source_id, operator=data.operator, value=data.value.strip(),
        action=RuleAction(data.action), target_question_id=data.target_id,
    )
    version.rules.append(rule)
    db.session.flush()
    audit.record(actor, "create", rule, after=audit.values(rule, RULE_FIELDS), label=rule_label(rule))
    return rule


def update_rule(actor: User, rule: SkipRule, data: RuleInput) -> None:
    ensure_draft(rule.version)
    _check_rule(rule.version, rule.id, data)
    before = audit.values(rule, RULE_FIELDS)
    rule.source_question_id, rule.operator, rule.value = data.source_id, data.operator, data.value.strip()
    rule.action, rule.target_question_id = RuleAction(data.action), data.target_id
    db.session.flush()
    db.session.expire(rule, ["source", "target"])
    audit.record(actor, "update", rule, before=before, after=audit.values(rule, RULE_FIELDS), label=rule_label(rule))


def delete_rule(actor: User, rule: SkipRule) -> None:
    version = rule.version
    ensure_draft(version)
    audit.record(actor, "delete", rule, before=audit.values(rule, RULE_FIELDS), label=rule_label(rule))
    version.rules.remove(rule)
    db.session.flush()


def _check_rule(version: QuestionnaireVersion, ref: int | str, data: RuleInput) -> None:
    spec = RuleSpec(ref, data.source_id, data.operator, data.value, data.action, data.target_id)
    problem = checks.rule_problem(spec, spec_of(version).questions)
    if problem:
        raise Refused([Problem(RULE_FORM_FIELDS.get(problem.code, "target_id"), problem.code, problem.params)])


def rule_label(rule: SkipRule) -> str:
    keys = {q.id: q.key for q in rule.version.questions}
    source = keys.get(rule.source_question_id, "?")
    target = keys.get(rule.target_question_id, "?")
    return f"{source} {rule.operator} {rule.value} → {rule.action} {target}".replace("  ", " ")
