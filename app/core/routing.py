"""Classify and route (分类与派单): which responses open a ticket, in what category, for which department.

Pure rules over plain values. The service that opens tickets builds a ``RoutedResponse`` from
the stored response, calls ``route`` once, and keeps "one response, one ticket" with its own
unique key; ``route`` itself returns at most one decision. Every decision carries its reasons so
the admin's "try it" box can show which rule matched and why.

Keywords match as ``app.core.routing_keywords`` describes; ``app.core.routing_rule_checks`` says
why an edited rule cannot be saved.
"""
from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from types import MappingProxyType

from app.core.complaint_words import CATEGORY_KEYWORDS, COMPLAINT_KEYWORDS, PRAISE_WORDS, URGENT_KEYWORDS
from app.core.routing_keywords import (
    KeywordHit,
    clauses_with,
    find_complaints,
    find_keywords,
    normalise,
)
from app.core.skip_logic import AnswerValue, condition_holds

CSAT, NPS, TEXT = "csat", "nps", "text"

#: Categories from the guides, in the order that breaks a last tie.
CATEGORIES: tuple[str, ...] = ("product", "service", "communication", "environment")
#: Categories of what people do (serve, tell) rather than of things (the dish, the room): their words
#: are verbs and manners whose objects are things, so when one of them is the complaint it decides a tie.
ACTION_CATEGORIES: frozenset[str] = frozenset({"service", "communication"})
#: Most urgent first.
PRIORITIES: tuple[str, ...] = ("urgent", "high", "normal", "low")
TRIAGE_PRIORITY = "normal"
DEFAULT_TRIAGE_DEPARTMENT = "triage"

_SYMBOLS = {"eq": "=", "ne": "≠", "lt": "<", "lte": "≤", "gt": ">", "gte": "≥"}
#: English texts of the reasons; a view may translate by ``Reason.code`` with the same params.
REASON_TEXTS: Mapping[str, str] = MappingProxyType({
    "low_csat": "{question} CSAT {score} ≤ {limit}",
    "low_nps": "{question} NPS {score} ≤ {limit}",
    "complaint": 'complaint keyword "{keyword}" in {question}',
    "category_keyword": 'keyword "{keyword}" → {category}',
    "category_score": "{question} CSAT {score} → {category}",
    "no_category": "no keyword or low score points to a category",
    "rule_matched": 'rule {position} "{name}" → {department}, {priority}',
    "condition_answer": "{question} {operator} {value} (answer: {answer})",
    "condition_category": "category is {category}",
    "condition_branch": "branch is {branch}",
    "condition_region": "region is {region}",
    "condition_keyword": 'keyword "{keyword}" in {question}',
    "set_category": "category set to {category}",
    "no_rule": "no rule matched → {department}, {priority}",
    "urgent_keyword": 'urgent keyword "{keyword}" in {question} → urgent',
    "very_low_csat": "{question} CSAT {score} ≤ {limit} → high",
    "department_missing": "department {department} is missing or inactive → {triage}",
})


@dataclass(frozen=True)
class QuestionKind:
    type: str                      # "csat", "nps", "single", "multiple", "text", "contact"
    dimension: str | None = None   # "product", "service", "environment"...


@dataclass(frozen=True)
class RoutedResponse:
    """What routing reads of a submitted response."""

    branch_code: str
    region: str
    answers: Mapping[str, AnswerValue]
    #: Every question of the version, in questionnaire order; ties and texts follow this order.
    questions: Mapping[str, QuestionKind]

    def scores(self, question_type: str) -> list[tuple[str, int]]:
        """(question key, score) of the answered questions of one type, in questionnaire order."""
        found = []
        for key, kind in self.questions.items():
            answer = self.answers.get(key)
            if kind.type == question_type and isinstance(answer, int) and not isinstance(answer, bool):
                found.append((key, answer))
        return found

    @property
    def texts(self) -> list[tuple[str, str]]:
        """(question key, text) of the answered open questions."""
        return [
            (key, answer) for key, kind in self.questions.items()
            if kind.type == TEXT and isinstance(answer := self.answers.get(key), str) and answer.strip()
        ]


@dataclass(frozen=True)
class Reason:
    """One step of a decision, for the "try it" box: a stable code and its values."""

    code: str
    params: Mapping[str, str | int] = field(default_factory=dict)

    def __str__(self) -> str:
        return REASON_TEXTS[self.code].format(**self.params)


@dataclass(frozen=True)
class RoutingSettings:
    """The configurable triggers: the brief's defaults unless an admin changed them."""

    csat_at_most: int = 2
    nps_at_most: int = 6
    complaint_keywords: tuple[str, ...] = COMPLAINT_KEYWORDS
    #: Praise that a negation makes a complaint (不是很满意); empty turns it off.
    praise_words: tuple[str, ...] = PRAISE_WORDS
    #: A wait written with its length (排了一个小时, waited 45 minutes) is a complaint.
    long_waits: bool = True
    #: A Chinese answer that pysenti's shipped lexicon and model both read as negative is a
    #: complaint (``routing_keywords._negative_by_lexicon``), when no keyword found one.
    sentiment_lexicon: bool = True
    #: Keys are the known categories; their order breaks the last tie.
    category_keywords: Mapping[str, tuple[str, ...]] = field(default_factory=lambda: CATEGORY_KEYWORDS)
    urgent_keywords: tuple[str, ...] = URGENT_KEYWORDS
    #: Any CSAT at or below this makes the ticket at least "high"; 0 turns it off.
    high_when_csat_at_most: int = 1


DEFAULT_SETTINGS = RoutingSettings()


@dataclass(frozen=True)
class AnswerCondition:
    question: str
    operator: str      # one of skip_logic.OPERATORS
    value: str = ""


def _frozen(values: Iterable[str]) -> frozenset[str]:
    return frozenset((values,) if isinstance(values, str) else values)


@dataclass(frozen=True)
class Rule:
    """Conditions (all must hold; an empty group holds) → department and priority.

    Lists may be passed for the collections; they are stored as tuples and frozensets.
    """

    position: int
    name: str
    department: str
    priority: str = "normal"
    set_category: str | None = None
    conditions: Sequence[AnswerCondition] = ()
    categories: Collection[str] = frozenset()
    branch_codes: Collection[str] = frozenset()
    regions: Collection[str] = frozenset()
    #: Any one of them in the open text.
    keywords: Sequence[str] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "conditions", tuple(self.conditions))
        keywords = (self.keywords,) if isinstance(self.keywords, str) else tuple(self.keywords)
        object.__setattr__(self, "keywords", keywords)
        for name in ("categories", "branch_codes", "regions"):
            object.__setattr__(self, name, _frozen(getattr(self, name)))


DEFAULT_RULES: tuple[Rule, ...] = (
    Rule(position=1, name="Product problems", categories={"product"}, department="product"),
    Rule(position=2, name="Service problems", categories={"service"}, department="service"),
    Rule(position=3, name="Communication problems", categories={"communication"}, department="service"),
    Rule(position=4, name="Environment problems", categories={"environment"}, department="operations"),
)


@dataclass(frozen=True)
class RoutingDecision:
    category: str | None
    department: str
    priority: str
    rule: Rule | None              # None: no rule matched and the ticket goes to triage
    reasons: tuple[Reason, ...]

    @property
    def opens_ticket(self) -> bool:
        """Always true: ``route`` returns None when no ticket opens."""
        return True

    @property
    def explanation(self) -> list[str]:
        return [str(reason) for reason in self.reasons]


def is_negative(response: RoutedResponse, settings: RoutingSettings = DEFAULT_SETTINGS) -> list[Reason]:
    """Why the response should open a ticket; empty when it should not.

    The brief's trigger: any CSAT ≤ 2, NPS ≤ 6, or a written complaint in an open answer (a complaint
    keyword, negated praise or a long wait: ``routing_keywords.find_complaints``).
    """
    reasons = [
        Reason("low_csat", {"question": key, "score": score, "limit": settings.csat_at_most})
        for key, score in response.scores(CSAT) if score <= settings.csat_at_most
    ]
    reasons += [
        Reason("low_nps", {"question": key, "score": score, "limit": settings.nps_at_most})
        for key, score in response.scores(NPS) if score <= settings.nps_at_most
    ]
    reasons += [
        Reason("complaint", {"keyword": hit.keyword, "question": hit.question})
        for hit in _complaints(response, settings)
    ]
    return reasons


def _complaints(response: RoutedResponse, settings: RoutingSettings):
    return find_complaints(
        response.texts, settings.complaint_keywords, settings.praise_words, settings.long_waits,
        settings.sentiment_lexicon,
    )


def categorise(
    response: RoutedResponse, settings: RoutingSettings = DEFAULT_SETTINGS
) -> tuple[str | None, list[Reason]]:
    """The response's category and why.

    Precedence: the customer's own words first, then their scores.
    1. The category with the most distinct keywords in the open text — in the clauses that hold a
       written complaint when there is one ("服务员很热情，可惜菜凉了" is about the food), in the whole answer
       when those clauses name none ("服务员在玩手机，叫了好几次都没人理"); a tie goes to the category
       whose CSAT question scored lowest (≤ ``csat_at_most``), then to a category of what people do
       (``ACTION_CATEGORIES``) whose word is part of the complaint itself (菜上得特别慢, 饮料到最后都没上:
       the complaint is the serving, the dish only its topic), then to the one mentioned first,
       then to the order of ``settings.category_keywords``.
    2. Without keywords: the dimension of the lowest CSAT ≤ ``csat_at_most`` (ties: questionnaire
       order), when that dimension is a known category.
    3. Otherwise None: no rule on category matches, so such a ticket usually lands in triage.
    """
    categories = list(settings.category_keywords)
    low = sorted(
        (score, index, key, response.questions[key].dimension)
        for index, (key, score) in enumerate(response.scores(CSAT))
        if score <= settings.csat_at_most and response.questions[key].dimension in categories
    )
    low_rank: dict[str, int] = {}
    for rank, (_, _, _, dimension) in enumerate(low):
        low_rank.setdefault(dimension, rank)
    complaints = _complaints(response, settings)
    # the clauses that hold the complaint first; when they name no topic (叫了好几次都没人理), the whole answer
    for texts in (clauses_with(response.texts, complaints) if complaints else [], response.texts):
        hits = {
            category: _outermost(find_keywords(texts, keywords, negation=False))
            for category, keywords in settings.category_keywords.items()
        }
        mentioned = [category for category in categories if hits[category]]
        if mentioned:
            break
    if mentioned:
        said = [normalise(hit.keyword) for hit in complaints]
        best = min(mentioned, key=lambda category: (
            -len(hits[category]),
            low_rank.get(category, len(low)),
            category not in ACTION_CATEGORIES
            or not any(normalise(hit.keyword) in phrase for hit in hits[category] for phrase in said),
            (hits[category][0].text_index, hits[category][0].offset),
            categories.index(category),
        ))
        return best, [Reason("category_keyword", {"keyword": hit.keyword, "category": best}) for hit in hits[best]]
    if low:
        score, _, key, dimension = low[0]
        return dimension, [Reason("category_score", {"question": key, "score": score, "category": dimension})]
    return None, [Reason("no_category")]


def _outermost(hits: list[KeywordHit]) -> list[KeywordHit]:
    """Hits not inside a longer hit of the same list: 服务员 counts once, not also as 服务."""
    def span(hit: KeywordHit) -> tuple[int, int, int]:
        return hit.text_index, hit.offset, hit.offset + len(hit.keyword)

    kept = []
    for hit in hits:
        index, start, end = span(hit)
        if not any(
            other is not hit and other_index == index and other_start <= start and end <= other_end
            and other_end - other_start > end - start
            for other in hits for other_index, other_start, other_end in [span(other)]
        ):
            kept.append(hit)
    return kept


def rule_matches(
    rule: Rule, response: RoutedResponse, category: str | None
) -> list[Reason] | None:
    """The conditions of ``rule`` that hold, as reasons; None when one of them does not."""
    reasons = []
    for condition in rule.conditions:
        answer = response.answers.get(condition.question)
        if not condition_holds(condition.operator, condition.value, answer):
            return None
        reasons.append(Reason("condition_answer", {
            "question": condition.question,
            "operator": _SYMBOLS.get(condition.operator, condition.operator),
            "value": condition.value,
            "answer": ", ".join(answer) if isinstance(answer, list) else str(answer),
        }))
    if rule.categories:
        if category not in rule.categories:
            return None
        reasons.append(Reason("condition_category", {"category": category}))
    if rule.branch_codes:
        if response.branch_code not in rule.branch_codes:
            return None
        reasons.append(Reason("condition_branch", {"branch": response.branch_code}))
    if rule.regions:
        if response.region not in rule.regions:
            return None
        reasons.append(Reason("condition_region", {"region": response.region}))
    if rule.keywords:
        hits = find_keywords(response.texts, rule.keywords)
        if not hits:
            return None
        reasons.append(Reason("condition_keyword", {"keyword": hits[0].keyword, "question": hits[0].question}))
    return reasons


def _raised_priority(
    priority: str, response: RoutedResponse, settings: RoutingSettings
) -> tuple[str, list[Reason]]:
    """Safety keywords make a ticket urgent and a CSAT of 1 at least high, whatever the rule said."""
    urgent = find_keywords(response.texts, settings.urgent_keywords)
    if urgent and priority != "urgent":
        return "urgent", [
            Reason("urgent_keyword", {"keyword": hit.keyword, "question": hit.question}) for hit in urgent
        ]
    very_low = [(key, score) for key, score in response.scores(CSAT) if score <= settings.high_when_csat_at_most]
    if very_low and PRIORITIES.index(priority) > PRIORITIES.index("high"):
        return "high", [
            Reason("very_low_csat", {"question": key, "score": score, "limit": settings.high_when_csat_at_most})
            for key, score in very_low
        ]
    return priority, []


def route(
    response: RoutedResponse,
    rules: Iterable[Rule] = DEFAULT_RULES,
    triage_department: str = DEFAULT_TRIAGE_DEPARTMENT,
    settings: RoutingSettings = DEFAULT_SETTINGS,
) -> RoutingDecision | None:
    """Where the ticket for this response goes; None when the response opens no ticket.

    Rules are tried by ``position`` (ties keep the given order); the first whose conditions all
    hold decides. A negative response that matches no rule goes to ``triage_department`` with
    priority normal. The priority is then raised, never lowered, by urgent keywords or a CSAT of 1.
    """
    triggers = is_negative(response, settings)
    if not triggers:
        return None
    category, reasons = categorise(response, settings)
    reasons = [*triggers, *reasons]
    for rule in sorted(rules, key=lambda rule: rule.position):
        held = rule_matches(rule, response, category)
        if held is not None:
            department, priority, matched = rule.department, rule.priority, rule
            reasons += [Reason("rule_matched", {
                "position": rule.position, "name": rule.name, "department": department, "priority": priority,
            }), *held]
            if rule.set_category:
                category = rule.set_category
                reasons.append(Reason("set_category", {"category": category}))
            break
    else:
        department, priority, matched = triage_department, TRIAGE_PRIORITY, None
        reasons.append(Reason("no_rule", {"department": department, "priority": priority}))
    priority, raised = _raised_priority(priority, response, settings)
    return RoutingDecision(category, department, priority, matched, tuple(reasons + raised))


#: Written problems looked up per process: the dashboard and its click-through read the same answers.
WRITTEN_CACHE = 20_000


@lru_cache(maxsize=WRITTEN_CACHE)
def written_problem(text: str) -> str | None:
    """What one open answer complains about by the default settings: its category, "" when it
    complains of nothing a category names, None when it is no written complaint."""
    response = RoutedResponse(branch_code="", region="", answers={TEXT: text}, questions={TEXT: QuestionKind(TEXT)})
    if not _complaints(response, DEFAULT_SETTINGS):
        return None
    return categorise(response)[0] or ""
