"""A published questionnaire version never changes; responses keep pointing at their version."""
import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import PublishedVersionError, Question, Questionnaire, QuestionType
from app.services.questionnaires.templates import create_default_questionnaire


@pytest.fixture
def published(app):
    with app.app_context():
        questionnaire = create_default_questionnaire(code="q1")
        db.session.commit()
        yield questionnaire.current_version


def test_published_question_text_cannot_change(app, published):
    question = published.questions[0]
    question.prompt = {"en": "changed"}
    with pytest.raises(PublishedVersionError):
        db.session.flush()
    db.session.rollback()


def test_question_cannot_be_added_to_or_removed_from_a_published_version(app, published):
    published.questions.append(Question(key="extra", type=QuestionType.TEXT, prompt={"en": "x"}))
    with pytest.raises(PublishedVersionError):
        db.session.flush()
    db.session.rollback()
    db.session.delete(published.questions[0])
    with pytest.raises(PublishedVersionError):
        db.session.flush()
    db.session.rollback()


def test_published_version_title_and_rules_cannot_change(app, published):
    published.title = {"en": "new title"}
    with pytest.raises(PublishedVersionError):
        db.session.flush()
    db.session.rollback()
    published.rules[0].value = "4"
    with pytest.raises(PublishedVersionError):
        db.session.flush()
    db.session.rollback()


def test_draft_versions_can_still_be_edited(app):
    with app.app_context():
        questionnaire = create_default_questionnaire(code="draft", publish=False)
        draft = questionnaire.versions[0]
        draft.questions[0].prompt = {"en": "Better wording"}
        db.session.commit()
        assert db.session.scalar(select(Questionnaire).where(Questionnaire.code == "draft")).current_version is None


def test_responses_keep_their_version_when_a_new_one_is_published(app, client, demo):
    """A customer mid-survey finishes the version they started; new visitors get the new one."""
    from tests.conftest import SurveyWalker
    from app.models import QuestionnaireVersion, Response
    from app.services.questionnaires.templates import publish_version

    walker = SurveyWalker(client, demo["tokens"]["SH-PEOPLE"])
    walker.open()
    walker.answer(product=4)
    with app.app_context():
        old = db.session.scalar(select(Questionnaire).where(Questionnaire.code == "satisfaction"))
        old_version_id = old.current_version_id
        new = QuestionnaireVersion(questionnaire=old, number=2, title={"en": "Version two"}, languages=["en"])
        new.questions = [Question(key="only", step=1, type=QuestionType.CSAT, required=True, prompt={"en": "Rate us (v2)"})]
        db.session.add(new)
        db.session.flush()
        publish_version(new)
        db.session.commit()
    walker.open()
    assert "How satisfied are you with our service?" in walker.page  # still version 1
    for key, value in [("service", 5), ("environment", 4), ("nps", 9), ("comment", "")]:
        walker.answer(**{key: value})
    with app.app_context():
        finished = db.session.scalar(select(Response).order_by(Response.id.desc()))
        assert finished.version_id == old_version_id and finished.submitted_at is not None
    fresh = SurveyWalker(client.application.test_client(), demo["tokens"]["SH-PEOPLE"])
    fresh.open()
    assert "Rate us (v2)" in fresh.page
