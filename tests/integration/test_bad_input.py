"""Bad input on every GET and POST route of the URL map: never a 500 (run it on PostgreSQL too).

The survey's own thousand bad submissions are in survey/test_bad_submissions.py; this one walks
the whole URL map as an administrator (who may open every page) with:

- ids in the path that are no id of ours (above 2³¹−1, 0, signs, "５"): a 404, before any query;
- every query argument the app reads (found in its source) and every field of every form the pages
  show, set to the issue's cases (99999999999, 2³¹, NUL, …) and to values Hypothesis generates;
- a NUL character anywhere (path, query, form): refused with a 4xx.

A 500 on PostgreSQL is what SQLite hides: it takes any integer and any character.
"""
from __future__ import annotations

import re
from collections import defaultdict
from pathlib import Path
from urllib.parse import quote, urlsplit

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from werkzeug.datastructures import MultiDict

from app.core.ids import MAX_ID, id_or_none, parse_id
from app.extensions import db
from app.models import Role, User
from tests.conftest import csrf_token, login

APP_DIR = Path(__file__).resolve().parents[2] / "app"
TOO_BIG = ("99999999999", str(MAX_ID + 1), str(2**63), "9" * 40)
NOT_IDS = ("0", "-1", "+1", "1.0", "1e3", "５", "²", " 1", "0x1", "abc", "")
NUL = ("\x00", "a\x00b", "1\x00", "%00")
KNOWN = (*TOO_BIG, *NOT_IDS, *NUL, "x" * 5000, "<script>alert(1)</script>", "' OR 1=1 --", "\ufeff", "😀")
#: What every argument of every route gets at once (the rest of KNOWN goes to the generated cases).
AT_ONCE = (*TOO_BIG[:2], "0", "-1", "５", "²", "abc", "", "\x00", "a\x00b", "x" * 5000, "' OR 1=1 --", "😀")
#: Routes a bad value must not reach because they would end the test's own session.
SKIP_POST = {"auth.logout"}
GENERATED = 400

FORM_RE = re.compile(r"<form\b([^>]*)>(.*?)</form>", re.S | re.I)
ATTR_RE = re.compile(r'(\w[\w-]*)="([^"]*)"')
FIELD_RE = re.compile(r"<(input|select|textarea)\b([^>]*)>", re.I)


def _attrs(text: str) -> dict[str, str]:
    return {k.lower(): v for k, v in ATTR_RE.findall(text)}


def source_argument_names() -> list[str]:
    """Every query or form argument a view or service reads by name."""
    names: set[str] = set()
    for path in APP_DIR.rglob("*.py"):
        names.update(re.findall(r'(?:args|form)\.get(?:list)?\(\s*"(\w+)"', path.read_text()))
    return sorted(names)


def _unsigned(html_text: str) -> str:
    return html_text.replace("&amp;", "&")


@pytest.fixture
def admin(app, demo):
    """A signed-in administrator of the test's own, so a bad POST on another user never signs it out."""
    with app.app_context():
        user = User(username="probe-admin", display_name="Probe", role=Role.ADMIN, all_branches=True)
        user.set_password("probe-password-1")
        db.session.add(user)
        db.session.commit()
        own_id = user.id
    client = app.test_client()
    assert login(client, "probe-admin", "probe-password-1").status_code == 302
    client.own_id = own_id
    return client


class Site:
    """The URL map with a real id for each path argument, and the forms each page shows."""

    def __init__(self, app, client) -> None:
        self.app, self.client = app, client
        self.rules = [r for r in app.url_map.iter_rules() if r.endpoint != "static" and r.methods & {"GET", "POST"}]
        self.forms: dict[str, list[dict[str, str]]] = defaultdict(list)  # action path -> [{name: value}]
        self.query_names = source_argument_names()

    def sample_args(self, rule) -> dict[str, object]:
        values = {}
        for name, converter in rule._converters.items():
            if converter.__class__.__name__ in ("IdConverter", "IntegerConverter"):
                # 1 is the first row of every table; a user 1 is the demo's admin, never the probe.
                values[name] = 1
            elif name == "action":
                values[name] = "note"
            elif name == "verdict":
                values[name] = "confirm"
            elif name == "name":
                values[name] = "trend"
            else:
                values[name] = "x"
        return values

    def url(self, rule, **override) -> str:
        args = {**self.sample_args(rule), **override}
        path = rule.rule
        for name, value in args.items():
            path = re.sub(rf"<(?:\w+(?:\([^)]*\))?:)?{name}>", quote(str(value), safe=""), path)
        return path

    def harvest(self) -> None:
        """GET every page once (real ids) and remember its forms by their action path."""
        for rule in self.rules:
            if "GET" not in rule.methods:
                continue
            url = self.url(rule)
            response = self.client.get(url)
            assert response.status_code < 500, f"GET {url} -> {response.status_code}"
            if not response.content_type.startswith("text/html"):
                continue
            for form_attrs, body in FORM_RE.findall(response.get_data(as_text=True)):
                attrs = _attrs(form_attrs)
                action = urlsplit(_unsigned(attrs.get("action") or url)).path or url
                fields: dict[str, str] = {}
                for _tag, field_attrs in FIELD_RE.findall(body):
                    field = _attrs(field_attrs)
                    if field.get("name"):
                        fields.setdefault(field["name"], field.get("value", ""))
                self.forms[action].append(fields)

    def fields_for(self, url: str) -> dict[str, str]:
        merged: dict[str, str] = {}
        for fields in self.forms.get(url, []):
            merged.update(fields)
        return merged

    def csrf(self) -> str:
        return csrf_token(self.client.get("/home", follow_redirects=True).get_data(as_text=True))


@pytest.fixture
def site(app, admin) -> Site:
    site = Site(app, admin)
    site.harvest()
    return site


def _id_like(name: str) -> bool:
    return name.endswith(("id", "ids", "_version")) or name in ("before", "branch", "department", "page", "from_branch")


def _is_5xx(response) -> bool:
    return response.status_code >= 500


def test_ids_are_one_to_two_to_the_31_minus_one():
    assert parse_id("1") == 1 and parse_id(str(MAX_ID)) == MAX_ID
    for bad in (*TOO_BIG, *NOT_IDS, "1\x00", None, True, -5, MAX_ID + 1):
        assert id_or_none(bad) is None, bad


def test_an_id_in_the_path_that_names_no_row_of_ours_is_a_404(app, site):
    """/staff/tickets/99999999999, /jobs/…, /admin/…: every route with an id, for GET and POST."""
    problems = []
    csrf = site.csrf()
    for rule in site.rules:
        id_args = [n for n, c in rule._converters.items() if c.__class__.__name__ == "IdConverter"]
        for name in id_args:
            for bad in (*TOO_BIG, "0", "-1", "５", "1.0"):
                url = site.url(rule, **{name: bad})
                for method in sorted(rule.methods & {"GET", "POST"}):
                    if method == "POST" and rule.endpoint in SKIP_POST:
                        continue
                    response = site.client.open(url, method=method, data={"csrf_token": csrf} if method == "POST" else None)
                    if response.status_code != 404:
                        problems.append(f"{method} {url} -> {response.status_code}")
    assert not problems, f"{len(problems)} not 404:\n" + "\n".join(problems[:40])


def test_every_query_argument_with_the_known_bad_values_gets_no_500(app, site):
    """?entity_id=99999999999, ?q=%00, ?word=%00, ?entity_type=%00 … on every GET route."""
    problems = []
    checked = 0
    for rule in site.rules:
        if "GET" not in rule.methods:
            continue
        url = site.url(rule)
        for value in AT_ONCE:
            response = site.client.get(url, query_string=MultiDict([(n, value) for n in site.query_names]))
            checked += 1
            if _is_5xx(response):
                problems.append(f"GET {url} all arguments={value[:20]!r} -> {response.status_code}")
            if "\x00" in value and response.status_code != 400:
                problems.append(f"GET {url} NUL={value!r} -> {response.status_code}, not refused")
        for name in (n for n in site.query_names if _id_like(n)):  # alone: a valid rest reaches the query
            response = site.client.get(url, query_string={name: TOO_BIG[0]})
            checked += 1
            if _is_5xx(response):
                problems.append(f"GET {url}?{name}={TOO_BIG[0]} -> {response.status_code}")
    assert not problems, f"{len(problems)} of {checked}:\n" + "\n".join(problems[:40])


def test_every_form_field_with_the_known_bad_values_gets_no_500(app, site):
    """Each POST route with every field of its forms bad at once, then each id-like field alone."""
    problems = []
    checked = 0
    csrf = site.csrf()
    try_url = "/admin/routing/new"
    for rule in site.rules:
        if "POST" not in rule.methods or rule.endpoint in SKIP_POST:
            continue
        url = site.url(rule)
        fields = site.fields_for(url)
        names = sorted(set(fields) | set(site.query_names) - {"csrf_token"})
        for value in AT_ONCE:
            data = MultiDict([(n, value) for n in names if n != "csrf_token"] + [("csrf_token", csrf)])
            response = site.client.post(url, data=data)
            checked += 1
            if _is_5xx(response):
                problems.append(f"POST {url} all fields={value[:20]!r} -> {response.status_code}")
            if "\x00" in value and response.status_code < 400:
                problems.append(f"POST {url} NUL={value!r} -> {response.status_code}, not refused")
        for name in names:
            if name == "csrf_token" or not _id_like(name):
                continue
            for value in TOO_BIG[:1]:
                data = MultiDict([*((n, v) for n, v in fields.items() if n not in (name, "csrf_token")),
                                  (name, value), ("csrf_token", csrf)])
                response = site.client.post(url, data=data)
                checked += 1
                if _is_5xx(response):
                    problems.append(f"POST {url} {name}={value!r} -> {response.status_code}")
    # The case: "try it" on a new routing rule with a response id above 2³¹−1 is a form error.
    fields = site.fields_for(try_url)
    response = site.client.post(try_url, data={**fields, "csrf_token": csrf, "name": "Probe", "try": "1",
                                               "try_response_id": "99999999999"})
    assert response.status_code in (200, 422), response.status_code
    assert problems == [], f"{len(problems)} of {checked}:\n" + "\n".join(problems[:40])


text_values = st.one_of(
    st.sampled_from(KNOWN),
    st.integers(min_value=-(2**70), max_value=2**70).map(str),
    st.text(max_size=40),
    st.text(alphabet=st.characters(codec="utf-8"), max_size=10).map(lambda s: s + "\x00"),
)


def test_generated_bad_input_on_every_route_gets_no_500(app, site):
    """Hypothesis picks a route, a method and some of its arguments, and puts generated values in them."""
    csrf = site.csrf()
    routes = [(rule, method) for rule in site.rules for method in sorted(rule.methods & {"GET", "POST"})
              if not (method == "POST" and rule.endpoint in SKIP_POST)]
    problems: list[str] = []

    @settings(max_examples=GENERATED, deadline=None, database=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
    @given(st.data())
    def send(data) -> None:
        rule, method = data.draw(st.sampled_from(routes))
        id_args = [n for n, c in rule._converters.items() if c.__class__.__name__ == "IdConverter"]
        overrides = {n: data.draw(st.one_of(st.integers(-(2**40), 2**40).map(str), text_values.filter(bool)))
                     for n in id_args if data.draw(st.booleans())}
        url = site.url(rule, **overrides)
        valid = site.fields_for(site.url(rule))
        names = sorted(set(valid) | set(site.query_names) - {"csrf_token"})
        chosen = data.draw(st.lists(st.sampled_from(names), min_size=1, max_size=4, unique=True)) if names else []
        values = [(n, data.draw(text_values)) for n in chosen]
        if method == "GET":
            response = site.client.get(url, query_string=MultiDict(values))
        else:
            kept = [(n, v) for n, v in valid.items() if n not in chosen and n != "csrf_token"]
            response = site.client.post(url, data=MultiDict([*kept, *values, ("csrf_token", csrf)]))
        if _is_5xx(response):
            problems.append(f"{method} {url} {values!r:.200} -> {response.status_code}")

    send()
    assert not problems, f"{len(problems)} of {GENERATED}:\n" + "\n".join(problems[:40])
