"""Signing in as a demo user in Chromium, as every browser test that needs staff starts."""
from __future__ import annotations

from app.demo import USERS


def password_of(username: str) -> str:
    return next(password for name, _role, password, *_rest in USERS if name == username)


def sign_in(page, base_url: str, username: str) -> None:
    """Sign in through the English sign-in form; the page is left where the sign-in lands."""
    page.goto(f"{base_url}/login?lang=en")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password_of(username))
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state()
