"""Where a survey request spends its time: walk surveys through Flask's test client under cProfile.

Uses the database bench/run seeded (DATABASE_URL, default loopdesk_bench) and the same
settings as the run. No server and no network, so the figures are Python time per request:

    .venv/bin/python bench/profile_survey.py --walks 50 [--sort tottime] [--top 40]
    .venv/bin/python bench/profile_survey.py --no-profile --set RATELIMIT_ENABLED=false   # what if
"""
from __future__ import annotations

import argparse
import cProfile
import json
import os
import pstats
import random
import re
import time
from collections import defaultdict

os.environ.setdefault("DATABASE_URL", "postgresql://root@127.0.0.1:5432/loopdesk_bench")
os.environ.setdefault("SECRET_KEY", "bench-profile")
os.environ.setdefault("LOOPDESK_SURVEY_LIMIT_PER_ADDRESS", "1000000/minute")
os.environ.setdefault("LOOPDESK_SURVEY_LIMIT_PER_DEVICE", "1000000/minute")

from app import create_app  # noqa: E402
from app.extensions import db  # noqa: E402
from app.models import QrCode  # noqa: E402

PHONE_HEADERS = {"Accept-Language": "zh-CN,zh;q=0.9,en;q=0.8", "Accept": "text/html"}
FIELD = re.compile(r'name="(csrf_token|key|step)"(?: type="hidden")? value="([^"]*)"')


def answers_for(page: str, rng: random.Random, follow_up: bool) -> dict:
    answers = {}
    if 'name="q_product"' in page:
        answers["q_product"] = rng.randint(3, 5)
    if 'name="q_service"' in page:
        answers["q_service"] = rng.randint(1, 3) if follow_up else rng.randint(4, 5)
    if 'name="q_service_problem"' in page:
        answers["q_service_problem"] = ["waiting"]
    if 'name="q_environment"' in page:
        answers["q_environment"] = rng.randint(3, 5)
    if 'name="q_nps"' in page:
        answers["q_nps"] = rng.randint(0, 10)
    if 'name="q_comment"' in page:
        answers["q_comment"] = rng.choice(["", "排队时间太长了"])
    return answers


def page_text(response) -> str:
    """The HTML of a response, decompressed as a phone's browser would."""
    body = response.get_data()
    encoding = response.headers.get("Content-Encoding")
    if encoding == "br":
        import brotli

        body = brotli.decompress(body)
    elif encoding == "gzip":
        import gzip

        body = gzip.decompress(body)
    return body.decode()


def walk(client, token: str, rng: random.Random, timings: dict, headers: dict) -> None:
    """One phone: open, answer every step, follow each 303, reach the thank-you page."""

    def timed(kind: str, call):
        start = time.perf_counter()
        response = call()
        timings[kind].append(time.perf_counter() - start)
        return response

    url = f"/s/{token}"
    page = page_text(timed("GET first step", lambda: client.get(url, headers=headers)))
    follow_up = rng.random() < 0.25
    while True:
        form = dict(FIELD.findall(page))
        data = {**form, **answers_for(page, rng, follow_up)}
        posted = timed("POST step", lambda: client.post(url, data=data, headers=headers))
        assert posted.status_code == 303, posted.status_code
        target = posted.headers["Location"]
        kind = "GET thanks" if target.endswith("/thanks") else "GET next step"
        page = page_text(timed(kind, lambda: client.get(target, headers=headers)))
        if kind == "GET thanks":
            assert 'class="thanks"' in page
            return


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--walks", type=int, default=50)
    parser.add_argument("--sort", default="cumulative", help="pstats sort key: cumulative, tottime, ...")
    parser.add_argument("--top", type=int, default=45)
    parser.add_argument("--set", action="append", default=[], metavar="KEY=JSON",
                        help='override a setting, e.g. --set RATELIMIT_HEADERS_ENABLED=false')
    parser.add_argument("--no-profile", action="store_true", help="only time the requests")
    parser.add_argument("--cpu", action="store_true", help="profile CPU time only (leave out waiting for PostgreSQL and Redis)")
    parser.add_argument("--dump", metavar="FILE", help="also write the profile for pstats (e.g. print_callers)")
    parser.add_argument("--accept-encoding", default="", help='e.g. "gzip, deflate, br", as a phone sends')
    args = parser.parse_args()

    app = create_app({key: json.loads(value) for key, value in (item.split("=", 1) for item in args.set)} or None)
    with app.app_context():
        tokens = [qr.token for qr in db.session.scalars(db.select(QrCode).where(QrCode.revoked_at.is_(None)))]
    headers = dict(PHONE_HEADERS)
    if args.accept_encoding:
        headers["Accept-Encoding"] = args.accept_encoding
    rng = random.Random(7)
    timings: dict[str, list[float]] = defaultdict(list)
    for _ in range(3):  # warm up: plan cache, templates, pool
        walk(app.test_client(), rng.choice(tokens), rng, defaultdict(list), headers)

    profiler = cProfile.Profile(time.process_time) if args.cpu else cProfile.Profile()
    cpu_start = time.process_time()
    if not args.no_profile:
        profiler.enable()
    for _ in range(args.walks):
        walk(app.test_client(), rng.choice(tokens), rng, timings, headers)
    profiler.disable()

    cpu = time.process_time() - cpu_start
    total = sum(len(v) for v in timings.values())
    wall = sum(map(sum, timings.values()))
    print(f"{args.walks} walks, {total} requests; per request, {'without' if args.no_profile else 'under'} cProfile: {wall / total * 1000:.2f} ms wall, {cpu / total * 1000:.2f} ms CPU")
    for kind, values in sorted(timings.items()):
        print(f"  {kind:<16} {len(values):>5} × {sum(values) / len(values) * 1000:6.2f} ms")
    if not args.no_profile:
        if args.dump:
            profiler.dump_stats(args.dump)
        pstats.Stats(profiler).strip_dirs().sort_stats(args.sort).print_stats(args.top)


if __name__ == "__main__":
    main()
