"""A draft's questions: adding, changing, moving and removing them without breaking a skip rule."""
from __future__ import annotations

from dataclasses import dataclass, replace

from app.core import questionnaire_checks as checks
from app.core.questionnaire_checks import OptionSpec, Problem, QuestionSpec
from app.extensions import db
from app.models import Question, QuestionnaireVersion, QuestionType, User
from app.models.types import Texts
from app.services import audit
from app.services.questionnaires.queries import ordered_questions, question_spec, spec_of
from app.services.questionnaires.refusals import Refused, RULE_BROKEN_BY_QUESTION
from app.services.questionnaires.skip_rules import RULE_FIELDS, rule_label
from app.services.questionnaires.versions import ensure_draft

QUESTION_FIELDS = ("key", "step", "position", "type", "required", "dimension_id", "prompt", "help", "options")


@dataclass(frozen=True)
class QuestionInput:
    key: str
    step: int
    type: str
    required: bool
    dimension_id: int | None
    prompt: Texts
    help: Texts
    options: tuple[OptionSpec, ...] = ()


def add_question(actor: User, version: QuestionnaireVersion, data: QuestionInput) -> Question:
    ensure_draft(version)
    position = max((q.position for q in version.questions), default=-1) + 1
    _check_question(version, None, data, position)
    question = Question(position=position, **_question_values(version, data))
    version.questions.append(question)
    db.session.flush()
    audit.record(actor, "create", question, after=audit.values(question, QUESTION_FIELDS))
    _renumber(version)
    return question


def update_question(actor: User, question: Question, data: QuestionInput) -> None:
    version = question.version
    ensure_draft(version)
    _check_question(version, question, data, question.position)
    update_question_fields(actor, question, **_question_values(version, data))
    _renumber(version)


def delete_question(actor: User, question: Question) -> int:
    """Remove a question and the skip rules that read or show it; returns how many rules went with it."""
    version = question.version
    ensure_draft(version)
    rules = [r for r in version.rules if question.id in (r.source_question_id, r.target_question_id)]
    for rule in rules:
        audit.record(actor, "delete", rule, before=audit.values(rule, RULE_FIELDS), label=rule_label(rule))
        version.rules.remove(rule)
    db.session.flush()
    audit.record(actor, "delete", question, before=audit.values(question, QUESTION_FIELDS))
    version.questions.remove(question)
    db.session.flush()
    _renumber(version)
    return len(rules)


def move_question(actor: User, question: Question, direction: str) -> bool:
    """Swap places (step and position) with the question before or after; False at either end.

    Refused when a skip rule would then read a question on a later step than the one it shows.
    """
    version = question.version
    ensure_draft(version)
    ordered = ordered_questions(version)
    index = ordered.index(question)
    other_index = index - 1 if direction == "up" else index + 1
    if direction not in ("up", "down") or not 0 <= other_index < len(ordered):
        return False
    other = ordered[other_index]
    specs = {q.id: question_spec(q) for q in ordered}
    specs[question.id] = replace(specs[question.id], step=other.step)
    specs[other.id] = replace(specs[other.id], step=question.step)
    proposed = [specs[q.id] for q in ordered]
    proposed[index], proposed[other_index] = proposed[other_index], proposed[index]
    broken = [p for p in (checks.rule_problem(r, proposed) for r in spec_of(version).rules) if p]
    if broken:
        raise Refused([Problem("questions", "move_breaks_rule", broken[0].params)])
    before = [audit.values(q, ("step", "position")) for q in (question, other)]
    question.step, other.step = other.step, question.step
    question.position, other.position = other.position, question.position
    for q, was in zip((question, other), before):
        audit.record(actor, "reorder", q, before=was, after=audit.values(q, ("step", "position")))
    db.session.flush()
    return True


def _question_values(version: QuestionnaireVersion, data: QuestionInput) -> dict:
    dimension_ids = {d.id for d in version.dimensions}
    is_choice = data.type in checks.CHOICE_TYPES
    return {
        "key": data.key,
        "step": data.step,
        "type": QuestionType(data.type),
        # Leaving contact details is always the customer's choice.
        "required": data.required and data.type != QuestionType.CONTACT,
        "dimension_id": data.dimension_id if data.dimension_id in dimension_ids else None,
        "prompt": dict(data.prompt),
        "help": dict(data.help),
        "options": [{"value": o.value, "label": dict(o.label)} for o in data.options] if is_choice else [],
    }


def update_question_fields(actor: User, question: Question, **values) -> None:
    before = audit.values(question, QUESTION_FIELDS)
    for name, value in values.items():
        setattr(question, name, value)
    db.session.flush()
    audit.record(actor, "update", question, before=before, after=audit.values(question, QUESTION_FIELDS))


def _check_question(version: QuestionnaireVersion, question: Question | None, data: QuestionInput, position: int) -> None:
    """Refuse a key in use, bad options, and a change that would break a skip rule."""
    problems = []
    others = [q for q in version.questions if q is not question]
    code = checks.key_problem(data.key, [q.key for q in others])
    if code:
        problems.append(Problem("key", code))
    problems += [Problem("options", code) for code in checks.option_problems(data.type, data.options)]
    if data.type not in checks.OPERATORS_BY_TYPE:
        problems.append(Problem("type", "unknown_type"))
    if not problems and question is not None:
        proposed_spec = QuestionSpec(
            ref=question.id, key=data.key, step=data.step, type=data.type, prompt=data.prompt, help=data.help,
            options=data.options if data.type in checks.CHOICE_TYPES else (),
        )
        proposed = sorted(
            [(q.step, q.position, question_spec(q)) for q in others] + [(data.step, position, proposed_spec)],
            key=lambda item: (item[0], item[1]),
        )
        questions = [spec for _step, _position, spec in proposed]
        for rule in spec_of(version).rules:
            if question.id not in (rule.source, rule.target):
                continue
            broken = checks.rule_problem(rule, questions)
            if broken:
                field, code = RULE_BROKEN_BY_QUESTION.get(broken.code, ("step", "step_breaks_rule"))
                problems.append(Problem(field, code, broken.params))
                break
    if problems:
        raise Refused(problems)


def _renumber(version: QuestionnaireVersion) -> None:
    """Positions follow the steps, so the order customers meet questions is the order rules read."""
    for position, question in enumerate(ordered_questions(version)):
        if question.position != position:
            question.position = position
    db.session.flush()
