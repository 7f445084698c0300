"""Building questionnaires: drafts, texts, dimensions, questions, skip rules, publishing, targeting.

Every function changes one thing, records it in the audit log and flushes; the view commits.
A refused change raises ``Refused`` with the problems at the fields of the form that asked
for it; any change to a published version raises ``PublishedVersionError`` before touching
it (and the model's flush guard stays behind that, whatever route tries).
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from app.core import questionnaire_checks as checks
from app.core.clock import utcnow
from app.core.questionnaire_checks import OptionSpec, Problem, QuestionSpec, RuleSpec, VersionSpec
from app.extensions import db
from app.models import (
    Branch,
    Dimension,
    PublishedVersionError,
    Question,
    Questionnaire,
    QuestionnaireVersion,
    QuestionType,
    RuleAction,
    SkipRule,
    User,
    VersionStatus,
)
from app.models.types import Texts
from app.services import audit, survey_entries
from app.services.questionnaire_templates import create_default_questionnaire, publish_version

QUESTIONNAIRE_FIELDS = ("code", "name", "starts_at", "ends_at", "target_regions", "target_branches", "archived_at")
VERSION_FIELDS = ("number", "status", "languages", "title", "intro", "thanks")
DIMENSION_FIELDS = ("key", "name", "weight", "position")
QUESTION_FIELDS = ("key", "step", "position", "type", "required", "dimension_id", "prompt", "help", "options")
RULE_FIELDS = ("source_question_id", "operator", "value", "action", "target_question_id")

#: Where a problem with a rule being saved shows on the rule's form.
RULE_FORM_FIELDS = {
    "rule_unknown_question": "source_id",
    "rule_same_question": "target_id",
    "rule_backwards": "target_id",
    "rule_action": "action",
    "rule_reads_contact": "source_id",
    "rule_operator_type": "operator",
    "rule_value_missing": "value",
    "rule_value_number": "value",
    "rule_value_option": "value",
}
#: Where a rule broken by changing a question shows on the question's form, and what it says there.
RULE_BROKEN_BY_QUESTION = {
    "rule_backwards": ("step", "step_breaks_rule"),
    "rule_operator_type": ("type", "type_breaks_rule"),
    "rule_reads_contact": ("type", "type_breaks_rule"),
    "rule_value_number": ("type", "type_breaks_rule"),
    "rule_value_option": ("options", "options_break_rule"),
}


class Refused(Exception):
    """A change the admin can fix: the problems say at which fields and why."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        super().__init__(", ".join(p.code for p in problems))
        self.problems = list(problems)


# Reading ---------------------------------------------------------------------------------------


def questionnaires(archived: bool = False) -> list[Questionnaire]:
    query = select(Questionnaire).options(
        selectinload(Questionnaire.current_version),
        selectinload(Questionnaire.versions),
        selectinload(Questionnaire.target_branches),
    )
    query = query.where(Questionnaire.archived_at.is_not(None) if archived else Questionnaire.archived_at.is_(None))
    return list(db.session.scalars(query.order_by(Questionnaire.code)))


def version_with_children(version_id: int) -> QuestionnaireVersion | None:
    return db.session.scalar(
        select(QuestionnaireVersion)
        .where(QuestionnaireVersion.id == version_id)
        .options(
            selectinload(QuestionnaireVersion.questions),
            selectinload(QuestionnaireVersion.dimensions),
            selectinload(QuestionnaireVersion.rules),
        )
    )


def code_taken(code: str) -> bool:
    return db.session.scalar(select(func.count(Questionnaire.id)).where(Questionnaire.code == code)) > 0


def open_draft(questionnaire: Questionnaire) -> QuestionnaireVersion | None:
    return next((v for v in questionnaire.versions if not v.is_published), None)


def ordered_questions(version: QuestionnaireVersion) -> list[Question]:
    """In the order customers meet them: by step, then position."""
    return sorted(version.questions, key=lambda q: (q.step, q.position))


def regions_in_use() -> list[str]:
    return list(db.session.scalars(select(Branch.region).where(Branch.region != "").distinct().order_by(Branch.region)))


def spec_of(version: QuestionnaireVersion, questions: Sequence[QuestionSpec] | None = None) -> VersionSpec:
    """The version as the pure checks read it; ``questions`` replaces its questions (a proposed change)."""
    return VersionSpec(
        languages=tuple(version.languages or ()),
        title=dict(version.title or {}),
        intro=dict(version.intro or {}),
        thanks=dict(version.thanks or {}),
        questions=tuple(questions) if questions is not None else tuple(_question_spec(q) for q in ordered_questions(version)),
        dimensions=tuple(checks.DimensionSpec(d.id, d.key, d.weight) for d in version.dimensions),
        rules=tuple(_rule_spec(r) for r in version.rules),
    )


def _question_spec(question: Question) -> QuestionSpec:
    return QuestionSpec(
        ref=question.id,
        key=question.key,
        step=question.step,
        type=str(question.type),
        prompt=dict(question.prompt or {}),
        help=dict(question.help or {}),
        options=tuple(OptionSpec(str(o.get("value", "")), dict(o.get("label") or {})) for o in question.options or ()),
    )


def _rule_spec(rule: SkipRule) -> RuleSpec:
    return RuleSpec(rule.id, rule.source_question_id, rule.operator, rule.value, str(rule.action), rule.target_question_id)


def publish_problems(version: QuestionnaireVersion) -> list[Problem]:
    return checks.publish_problems(spec_of(version))


# Questionnaires --------------------------------------------------------------------------------


def create_questionnaire(actor: User, code: str, name: Texts, from_template: bool) -> Questionnaire:
    """A new questionnaire with version 1 as a draft: empty, or the default satisfaction questionnaire."""
    if code_taken(code):
        raise Refused([Problem("code", "code_taken")])
    if from_template:
        questionnaire = create_default_questionnaire(code, publish=False)
        if any(name.values()):
            questionnaire.name = name
    else:
        questionnaire = Questionnaire(code=code, name=name)
        QuestionnaireVersion(questionnaire=questionnaire, number=1, languages=["zh_Hans", "en"], title=dict(name))
        db.session.add(questionnaire)
        db.session.flush()
    audit.record(actor, "create", questionnaire, after={**audit.values(questionnaire, ("code", "name")),
                                                      "template": "default" if from_template else None})
    version = questionnaire.versions[0]
    audit.record(actor, "create", version, after=audit.values(version, VERSION_FIELDS), label=_version_label(version))
    return questionnaire


def update_settings(actor: User, questionnaire: Questionnaire, name: Texts, starts_at, ends_at) -> None:
    before = audit.values(questionnaire, QUESTIONNAIRE_FIELDS)
    questionnaire.name = name
    questionnaire.starts_at = starts_at
    questionnaire.ends_at = ends_at
    _recorded_update(actor, questionnaire, before)


def set_targeting(actor: User, questionnaire: Questionnaire, branches: Sequence[Branch], regions: Sequence[str]) -> None:
    """No branches and no regions: every branch."""
    before = audit.values(questionnaire, QUESTIONNAIRE_FIELDS)
    questionnaire.target_branches = list(branches)
    questionnaire.target_regions = sorted(set(regions))
    _recorded_update(actor, questionnaire, before)


def set_archived(actor: User, questionnaire: Questionnaire, archived: bool) -> None:
    """An archived questionnaire is offered to nobody; its versions and responses stay. Restoring undoes it."""
    if (questionnaire.archived_at is not None) == archived:
        return
    before = {"archived_at": questionnaire.archived_at}
    questionnaire.archived_at = utcnow() if archived else None
    audit.record(actor, "archive" if archived else "restore", questionnaire,
                 before=before, after={"archived_at": questionnaire.archived_at})
    _customers_see_it_now()


def _recorded_update(actor: User, questionnaire: Questionnaire, before: dict) -> None:
    db.session.flush()
    audit.record(actor, "update", questionnaire, before=before, after=audit.values(questionnaire, QUESTIONNAIRE_FIELDS))
    _customers_see_it_now()


def _customers_see_it_now() -> None:
    """Which questionnaire a QR code opens is cached for a few seconds; this worker forgets it at once."""
    survey_entries.forget_cached_codes()


# Versions --------------------------------------------------------------------------------------


def _version_label(version: QuestionnaireVersion) -> str:
    return f"{version.questionnaire.code} v{version.number}"


def ensure_draft(version: QuestionnaireVersion) -> None:
    if version.is_published:
        raise PublishedVersionError(f"version {version.id} is published")


def new_draft_from(actor: User, version: QuestionnaireVersion) -> tuple[QuestionnaireVersion, bool]:
    """A draft copied from ``version`` (texts, dimensions, questions with the same keys, rules).

    A questionnaire has at most one open draft: when there is one, it is returned as it is
    (and False says nothing was made).
    """
    questionnaire = version.questionnaire
    existing = open_draft(questionnaire)
    if existing is not None:
        return existing, False
    number = max(v.number for v in questionnaire.versions) + 1
    draft = QuestionnaireVersion(
        questionnaire=questionnaire,
        number=number,
        status=VersionStatus.DRAFT,
        languages=list(version.languages or []),
        title=dict(version.title or {}),
        intro=dict(version.intro or {}),
        thanks=dict(version.thanks or {}),
    )
    dimensions = {
        d.id: Dimension(key=d.key, name=dict(d.name or {}), weight=d.weight, position=d.position)
        for d in version.dimensions
    }
    draft.dimensions = list(dimensions.values())
    questions = {
        q.id: Question(
            key=q.key, position=q.position, step=q.step, type=q.type, required=q.required,
            dimension=dimensions.get(q.dimension_id), prompt=dict(q.prompt or {}), help=dict(q.help or {}),
            options=[dict(o, label=dict(o.get("label") or {})) for o in q.options or []],
        )
        for q in version.questions
    }
    draft.questions = list(questions.values())
    draft.rules = [
        SkipRule(position=r.position, source=questions[r.source_question_id], operator=r.operator, value=r.value,
                 action=r.action, target=questions[r.target_question_id])
        for r in version.rules
    ]
    db.session.add(draft)
    db.session.flush()
    audit.record(actor, "create", draft, after={**audit.values(draft, VERSION_FIELDS), "copied_from": version.number},
                 label=_version_label(draft))
    return draft, True


def update_texts(actor: User, version: QuestionnaireVersion, languages: Sequence[str], title: Texts,
                 intro: Texts, thanks: Texts) -> None:
    ensure_draft(version)
    before = audit.values(version, VERSION_FIELDS)
    version.languages = list(languages)
    version.title, version.intro, version.thanks = dict(title), dict(intro), dict(thanks)
    db.session.flush()
    audit.record(actor, "update", version, before=before, after=audit.values(version, VERSION_FIELDS),
                 label=_version_label(version))


def publish(actor: User, version: QuestionnaireVersion) -> list[Problem]:
    """Freeze the draft and make it the one customers answer; the problems when it is not fit yet."""
    ensure_draft(version)
    problems = publish_problems(version)
    if problems:
        return problems
    publish_version(version)
    audit.record(actor, "publish", version, after={"number": version.number, "status": version.status},
                 label=_version_label(version))
    _customers_see_it_now()
    return []


# Dimensions ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DimensionInput:
    row: int
    id: int | None
    key: str
    name: Texts
    weight: int
    remove: bool = False


def save_dimensions(actor: User, version: QuestionnaireVersion, rows: Sequence[DimensionInput]) -> None:
    """Add, change and remove dimensions at once, so the weights can add up to 100 after the change."""
    ensure_draft(version)
    by_id = {d.id: d for d in version.dimensions}
    kept = [r for r in rows if not r.remove and (r.id in by_id or r.key or any(r.name.values()) or r.weight)]
    problems = []
    seen: list[str] = []
    for row in kept:
        code = checks.key_problem(row.key, seen)
        if code:
            problems.append(Problem(f"dimension-{row.row}-key", code))
        seen.append(row.key)
    weights = checks.weights_problem([r.weight for r in kept])
    if weights:
        problems.append(weights)
    if problems:
        raise Refused(problems)
    removed = [by_id[r.id] for r in rows if r.remove and r.id in by_id]
    for dimension in removed:
        for question in version.questions:
            if question.dimension_id == dimension.id:
                _update_question_fields(actor, question, dimension_id=None)
        audit.record(actor, "delete", dimension, before=audit.values(dimension, DIMENSION_FIELDS))
        version.dimensions.remove(dimension)
    befores = {r.id: audit.values(by_id[r.id], DIMENSION_FIELDS) for r in kept if r.id in by_id}
    for row in kept:
        if row.id in by_id and by_id[row.id].key != row.key:
            by_id[row.id].key = f"~{row.id}"  # two dimensions may swap keys: free them first
    db.session.flush()  # a removed or renamed key may be taken again below
    for position, row in enumerate(kept):
        dimension = by_id.get(row.id)
        if dimension is None:
            dimension = Dimension(key=row.key, name=dict(row.name), weight=row.weight, position=position)
            version.dimensions.append(dimension)
            db.session.flush()
            audit.record(actor, "create", dimension, after=audit.values(dimension, DIMENSION_FIELDS))
            continue
        dimension.key, dimension.name, dimension.weight, dimension.position = row.key, dict(row.name), row.weight, position
        audit.record(actor, "update", dimension, before=befores[row.id], after=audit.values(dimension, DIMENSION_FIELDS))
    db.session.flush()


# Questions -------------------------------------------------------------------------------------


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
    _update_question_fields(actor, question, **_question_values(version, data))
    _renumber(version)


def delete_question(actor: User, question: Question) -> int:
    """Remove a question and the skip rules that read or show it; returns how many rules went with it."""
    version = question.version
    ensure_draft(version)
    rules = [r for r in version.rules if question.id in (r.source_question_id, r.target_question_id)]
    for rule in rules:
        audit.record(actor, "delete", rule, before=audit.values(rule, RULE_FIELDS), label=_rule_label(rule))
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
    specs = {q.id: _question_spec(q) for q in ordered}
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


def _update_question_fields(actor: User, question: Question, **values) -> None:
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
            [(q.step, q.position, _question_spec(q)) for q in others] + [(data.step, position, proposed_spec)],
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


# Skip rules ------------------------------------------------------------------------------------


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
    audit.record(actor, "create", rule, after=audit.values(rule, RULE_FIELDS), label=_rule_label(rule))
    return rule


def update_rule(actor: User, rule: SkipRule, data: RuleInput) -> None:
    ensure_draft(rule.version)
    _check_rule(rule.version, rule.id, data)
    before = audit.values(rule, RULE_FIELDS)
    rule.source_question_id, rule.operator, rule.value = data.source_id, data.operator, data.value.strip()
    rule.action, rule.target_question_id = RuleAction(data.action), data.target_id
    db.session.flush()
    db.session.expire(rule, ["source", "target"])
    audit.record(actor, "update", rule, before=before, after=audit.values(rule, RULE_FIELDS), label=_rule_label(rule))


def delete_rule(actor: User, rule: SkipRule) -> None:
    version = rule.version
    ensure_draft(version)
    audit.record(actor, "delete", rule, before=audit.values(rule, RULE_FIELDS), label=_rule_label(rule))
    version.rules.remove(rule)
    db.session.flush()


def _check_rule(version: QuestionnaireVersion, ref: int | str, data: RuleInput) -> None:
    spec = RuleSpec(ref, data.source_id, data.operator, data.value, data.action, data.target_id)
    problem = checks.rule_problem(spec, spec_of(version).questions)
    if problem:
        raise Refused([Problem(RULE_FORM_FIELDS.get(problem.code, "target_id"), problem.code, problem.params)])


def _rule_label(rule: SkipRule) -> str:
    keys = {q.id: q.key for q in rule.version.questions}
    source = keys.get(rule.source_question_id, "?")
    target = keys.get(rule.target_question_id, "?")
    return f"{source} {rule.operator} {rule.value} → {rule.action} {target}".replace("  ", " ")
