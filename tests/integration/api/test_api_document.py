"""The OpenAPI document and its reference page."""
from __future__ import annotations


def test_the_openapi_document_describes_the_bearer_key_and_every_error_as_a_problem(client):
    document = client.get("/api/v1/openapi.json")
    assert document.status_code == 200
    spec = document.get_json()
    assert spec["openapi"].startswith("3.1")
    assert spec["components"]["securitySchemes"]["bearerAuth"] == {
        "type": "http", "scheme": "bearer", "description": spec["components"]["securitySchemes"]["bearerAuth"]["description"],
    }
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            if method == "parameters":
                continue
            assert "default" not in operation["responses"], (path, method)
            assert {"401", "429"} <= set(operation["responses"]), (path, method)
            assert operation["security"], (path, method)
    not_found = spec["components"]["responses"]["NOT_FOUND"]["content"]
    assert list(not_found) == ["application/problem+json"]


def test_the_reference_page_loads_redoc_from_our_own_static_files(client):
    page = client.get("/api/v1/docs")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "/static/redoc-2.5.4.standalone" in html and "/api/v1/openapi.json" in html
    assert "https://" not in html and "cdn" not in html.lower()
    assert "script-src 'self'" in page.headers["Content-Security-Policy"]
