"""SLA attainment on a fresh demo, as the supervisor board and the dashboard show it.

    .venv/bin/python bench/attainment_demo.py

Seeds the scripts/dev demo (300 past responses) into a temporary SQLite database, signs in as
`supervisor` and as `admin`, and prints the text of the board's attainment table and of the
dashboard's SLA target rows (last 30 days, the dashboard's default). Not a timing benchmark:
it reads the figures a manager reads. Works on any version of the pages (it prints their text).
"""
from __future__ import annotations

import html
import re
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path.cwd()))

from app import create_app  # noqa: E402
from app.demo import USERS, seed_demo  # noqa: E402
from app.extensions import db  # noqa: E402


def text_of(fragment: str) -> list[str]:
    rows = re.findall(r"<tr>(.*?)</tr>", fragment, re.S)
    cleaned = []
    for row in rows:
        cells = [html.unescape(re.sub(r"<[^>]+>", " ", c)) for c in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)]
        cleaned.append(" | ".join(" ".join(c.split()) for c in cells))
    return cleaned


def main() -> None:
    folder = tempfile.mkdtemp(prefix="attainment-demo-")
    app = create_app({
        "SECRET_KEY": "demo", "SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder}/demo.db", "REDIS_URL": None,
        "RATELIMIT_ENABLED": False, "WTF_CSRF_ENABLED": False, "LOOPDESK_DEFAULT_LOCALE": "en",
        "LOOPDESK_JOB_FILES": f"{folder}/job_files",
    })
    with app.app_context():
        db.create_all()
        seed_demo()
    passwords = {u[0]: u[2] for u in USERS}
    for username in ("supervisor", "admin"):
        client = app.test_client()
        client.post("/login", data={"username": username, "password": passwords[username]})
        board = client.get("/supervisor/board", headers={"Accept-Language": "en"}).get_data(as_text=True)
        table = re.search(r"SLA attainment against the targets.*?</table>", board, re.S).group(0)
        print(f"== {username}: /supervisor/board")
        for line in text_of(table):
            print("  ", line)
        page = client.get("/insight/", headers={"Accept-Language": "en"}).get_data(as_text=True)
        targets = re.search(r'id="targets".*?</table>', page, re.S).group(0)
        print(f"== {username}: /insight/ (last 30 days), SLA rows")
        for line in text_of(targets):
            if re.search(r"(?i)first response|answered|resolved|resolution|target", line):
                print("  ", line)


if __name__ == "__main__":
    main()
