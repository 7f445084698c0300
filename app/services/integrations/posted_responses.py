"""A complete response an integration posts (POST /api/v1/responses): the phone survey's pipeline, not a copy.

The view checks the answers with the survey's own step form (app/forms/survey.whole_response_form) over the
questions the answers show (skip logic), then ``post`` stores it through ``submitting.submit_whole`` (the
survey's draft, skip logic, reference code and submit-once) with channel api and the key as its integration;
the after-submit job (``app.jobs.responses.response_submitted``) then flags data quality, routes it and opens
its ticket exactly as for a phone's. Its survey key is made from the API key and the Idempotency-Key
(``response_key``), so the same request twice can only ever store one response.
"""
from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from app.extensions import db
from app.models import ApiKey, Branch, Channel, QuestionnaireVersion, Response
from app.permissions import branch_scope
from app.services import audit
from app.services.survey import submitting
from app.services.survey.plans import SurveyPlan, plan_for
from app.services.survey.submitting import ContactDetails, StepInput


class Refused(Exception):
    """A body field that names nothing this key may post to: ``field`` and the English ``detail``."""

    def __init__(self, field: str, detail: str) -> None:
        super().__init__(detail)
        self.field = field
        self.detail = detail


def response_key(api_key: ApiKey, idempotency_key: str) -> str:
    """The response's survey key (43 URL-safe characters, like a phone's draft key): the Idempotency-Key with
    the API key's id, hashed."""
    digest = hashlib.sha256(f"{api_key.id}\n{idempotency_key}".encode()).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def plan_to_post(api_key: ApiKey, branch_id: int, version_id: int, language: str) -> SurveyPlan:
    """The plan of a published version for an active branch in the key's scope in one of its languages; else
    Refused (a branch outside the scope reads as one that does not exist)."""
    scope = branch_scope(api_key)
    branch = db.session.get(Branch, branch_id)
    if branch is None or (scope is not None and branch_id not in scope):
        raise Refused("branch_id", "No branch with this id in this key's scope.")
    if not branch.active:
        raise Refused("branch_id", "This branch is inactive: it takes no responses.")
    version = db.session.get(QuestionnaireVersion, version_id)
    if version is None or not version.is_published:
        raise Refused("version_id", "No published questionnaire version with this id.")
    plan = plan_for(version_id)
    if language not in plan.languages:
        raise Refused("language", f"This version is written in: {', '.join(plan.languages)}.")
    return plan


@dataclass(frozen=True)
class Posted:
    branch_id: int
    language: str
    started_at: datetime
    device_id: str
    values: dict
    contact: ContactDetails | None


def post(api_key: ApiKey, plan: SurveyPlan, idempotency_key: str, posted: Posted) -> Response:
    """Store the response, submitted, with the audit entry as the key (flushes; the caller commits and then
    hands it to the after-submit job). Raises submitting.AlreadySubmitted when this key stored it already."""
    draft = submitting.submit_whole(posted.branch_id, plan, StepInput(
        key=response_key(api_key, idempotency_key),
        device_id=posted.device_id,
        started_at=posted.started_at,
        language=posted.language,
        step=0,
        values=posted.values,
        contact=posted.contact,
        channel=Channel.API,
        api_key_id=api_key.id,
    ))
    response = db.session.scalar(select(Response).where(Response.id == draft.id))
    assert response is not None
    audit.record(api_key, "create", response, after={
        "branch_id": response.branch_id, "version_id": response.version_id, "channel": response.channel,
        "reference_code": response.reference_code,
    })
    return response
