"""Property-based tests generated from the app's own OpenAPI document (schemathesis, against the WSGI app).

With a seeded key (every scope, one branch) and the demo's data, every operation is called with generated
arguments, valid and invalid: no answer is a 500, every answer's status is one the document lists for the
operation, and its body and content type conform to what the document says. Bounded (a few dozen examples per
operation) so that it runs in about a minute on SQLite; scripts/test runs it on PostgreSQL too.
"""
from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from app.models import API_SCOPES

#: Examples per operation and mode: enough to find the refusals, about a minute in all on SQLite.
EXAMPLES = 25
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


@pytest.fixture
def api_token(make_key):
    _key_id, token = make_key(scopes=API_SCOPES, branches=("SH-PEOPLE",))
    return token


def _check_operation(operation, mode: GenerationMode, token: str) -> None:
    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck))
    def answers_as_documented(case) -> None:
        # identity: schemathesis' WSGI transport does not decode the brotli/gzip Flask-Compress sends
        case.call_and_validate(headers={"Authorization": f"Bearer {token}", "Accept-Encoding": "identity"}, checks=CHECKS)

    answers_as_documented()


def test_every_operation_answers_as_its_document_says(app, api_token):
    """Valid and invalid arguments for every operation (schemathesis' pytest plugin needs pytest < 9: by hand)."""
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 7
    for operation in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            _check_operation(operation, mode, api_token)
