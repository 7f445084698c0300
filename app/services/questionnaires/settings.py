"""A questionnaire as a whole: creating or copying it, its name and dates, which branches it targets, archiving."""
from __future__ import annotations

from collections.abc import Sequence

from app.core.clock import utcnow
from app.core.questionnaire_checks import Problem
from app.extensions import db
from app.models import Branch, Questionnaire, QuestionnaireVersion, User
from app.models.types import Texts
from app.services import audit
from app.services.questionnaires.queries import code_taken, version_to_copy
from app.services.questionnaires.refusals import Refused
from app.services.questionnaires.serving import switch_lines, targeting_preview, window_preview
from app.services.questionnaires.templates import create_default_questionnaire
from app.services.questionnaires.versions import copy_version, customers_see_it_now, VERSION_FIELDS, version_label

QUESTIONNAIRE_FIELDS = ("code", "name", "starts_at", "ends_at", "target_regions", "target_branches", "archived_at")


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
    audit.record(actor, "create", version, after=audit.values(version, VERSION_FIELDS), label=version_label(version))
    return questionnaire


def copy_questionnaire(actor: User, original: Questionnaire, code: str, name: Texts) -> Questionnaire:
    """A new questionnaire with every setting of ``original``: its window and targeting, and as version 1
    (a draft: nothing reaches customers until it is published) a copy of ``version_to_copy``.

    The copy shares nothing with the original: editing one never changes the other. QR codes pinned
    to the original stay pinned to it.
    """
    if code_taken(code):
        raise Refused([Problem("code", "code_taken")])
    source = version_to_copy(original)
    questionnaire = Questionnaire(
        code=code, name=dict(name), starts_at=original.starts_at, ends_at=original.ends_at,
        target_regions=list(original.target_regions or []), target_branches=list(original.target_branches),
    )
    copy_version(source, questionnaire, 1)
    db.session.add(questionnaire)
    db.session.flush()
    audit.record(actor, "copy", questionnaire, after={
        **audit.values(questionnaire, QUESTIONNAIRE_FIELDS), "copied_from": f"{original.code} v{source.number}",
    })
    version = questionnaire.versions[0]
    audit.record(actor, "create", version, after={**audit.values(version, VERSION_FIELDS), "copied_from": version_label(source)},
                 label=version_label(version))
    return questionnaire


def update_settings(actor: User, questionnaire: Questionnaire, name: Texts, starts_at, ends_at) -> None:
    before = audit.values(questionnaire, QUESTIONNAIRE_FIELDS)
    switched = switch_lines(window_preview(questionnaire, starts_at, ends_at))
    questionnaire.name = name
    questionnaire.starts_at = starts_at
    questionnaire.ends_at = ends_at
    _recorded_update(actor, questionnaire, before, switched)


def set_targeting(actor: User, questionnaire: Questionnaire, branches: Sequence[Branch], regions: Sequence[str]) -> None:
    """No branches and no regions: every branch."""
    before = audit.values(questionnaire, QUESTIONNAIRE_FIELDS)
    switched = switch_lines(targeting_preview(questionnaire, [b.id for b in branches], regions))
    questionnaire.target_branches = list(branches)
    questionnaire.target_regions = sorted(set(regions))
    _recorded_update(actor, questionnaire, before, switched)


def set_archived(actor: User, questionnaire: Questionnaire, archived: bool) -> None:
    """An archived questionnaire is offered to nobody; its versions and responses stay. Restoring undoes it."""
    if (questionnaire.archived_at is not None) == archived:
        return
    before = {"archived_at": questionnaire.archived_at}
    questionnaire.archived_at = utcnow() if archived else None
    audit.record(actor, "archive" if archived else "restore", questionnaire,
                 before=before, after={"archived_at": questionnaire.archived_at})
    customers_see_it_now()


def _recorded_update(actor: User, questionnaire: Questionnaire, before: dict, switched: list[str]) -> None:
    """The audit entry keeps which QR codes the change switched to another questionnaire, if any."""
    db.session.flush()
    after = {**audit.values(questionnaire, QUESTIONNAIRE_FIELDS), **({"switched": switched} if switched else {})}
    audit.record(actor, "update", questionnaire, before=before, after=after)
    customers_see_it_now()
