"""The default satisfaction questionnaire of the brief, in zh-Hans and en."""
from __future__ import annotations

from app.core.clock import utcnow
from app.core.scoring import DEFAULT_WEIGHTS
from app.extensions import db
from app.models import (
    Dimension,
    Question,
    Questionnaire,
    QuestionnaireVersion,
    QuestionType,
    RuleAction,
    SkipRule,
    VersionStatus,
)

DIMENSION_NAMES = {
    "product": {"zh_Hans": "产品", "en": "Product"},
    "service": {"zh_Hans": "服务", "en": "Service"},
    "environment": {"zh_Hans": "环境", "en": "Environment"},
}

SERVICE_PROBLEMS = [
    ("waiting", "等待时间太长", "Waiting time was too long"),
    ("attitude", "服务态度不好", "Staff attitude"),
    ("knowledge", "专业能力不足", "Staff could not help"),
    ("after_sales", "售后问题", "After-sales problem"),
]


def _t(zh: str, en: str) -> dict[str, str]:
    return {"zh_Hans": zh, "en": en}


def create_default_questionnaire(code: str = "satisfaction", publish: bool = True) -> Questionnaire:
    """Six steps, under a minute: three ratings, a follow-up when service scored ≤ 3, NPS, comments and contact."""
    questionnaire = Questionnaire(code=code, name=_t("顾客满意度调查", "Customer satisfaction survey"))
    version = QuestionnaireVersion(
        questionnaire=questionnaire,
        number=1,
        languages=["zh_Hans", "en"],
        title=_t("您对本次体验满意吗？", "How was your visit?"),
        intro=_t("只需 1 分钟，帮助我们做得更好。", "One minute of your time helps us do better."),
        thanks=_t("感谢您的反馈！", "Thank you for your feedback!"),
    )
    dims = {
        key: Dimension(key=key, name=DIMENSION_NAMES[key], weight=weight, position=i)
        for i, (key, weight) in enumerate(DEFAULT_WEIGHTS.items())
    }
    version.dimensions = list(dims.values())
    questions = [
        Question(key="product", step=1, type=QuestionType.CSAT, required=True, dimension=dims["product"],
                 prompt=_t("您对我们的产品满意吗？", "How satisfied are you with our products?")),
        Question(key="service", step=2, type=QuestionType.CSAT, required=True, dimension=dims["service"],
                 prompt=_t("您对我们的服务满意吗？", "How satisfied are you with our service?")),
        Question(key="service_problem", step=3, type=QuestionType.MULTIPLE, required=False,
                 dimension=dims["service"],
                 prompt=_t("服务的哪些方面让您失望？", "Which part of the service disappointed you?"),
                 options=[{"value": v, "label": _t(zh, en)} for v, zh, en in SERVICE_PROBLEMS]),
        Question(key="environment", step=4, type=QuestionType.CSAT, required=True, dimension=dims["environment"],
                 prompt=_t("您对门店环境满意吗？", "How satisfied are you with the store environment?")),
        Question(key="nps", step=5, type=QuestionType.NPS, required=True,
                 prompt=_t("您有多大可能向朋友推荐我们？", "How likely are you to recommend us to a friend?")),
        Question(key="comment", step=6, type=QuestionType.TEXT, required=False,
                 prompt=_t("还有什么想告诉我们的吗？", "Anything else you would like to tell us?")),
        Question(key="contact", step=6, type=QuestionType.CONTACT, required=False,
                 prompt=_t("需要我们联系您吗？", "Would you like us to get back to you?"),
                 help=_t("选填。仅用于回访本次反馈。", "Optional. Used only to follow up on this feedback.")),
    ]
    for position, question in enumerate(questions):
        question.position = position
    version.questions = questions
    by_key = {q.key: q for q in questions}
    version.rules = [
        SkipRule(position=0, source=by_key["service"], operator="lte", value="3",
                 action=RuleAction.SHOW, target=by_key["service_problem"]),
    ]
    db.session.add(questionnaire)
    db.session.flush()
    if publish:
        publish_version(version)
    return questionnaire


def publish_version(version: QuestionnaireVersion) -> None:
    """Freeze a draft and make it the one customers answer."""
    version.status = VersionStatus.PUBLISHED
    version.published_at = utcnow()
    version.questionnaire.current_version = version
    db.session.flush()
