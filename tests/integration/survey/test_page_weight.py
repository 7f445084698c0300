"""The survey's first load fits a weak mobile network: ≤ 30 KB compressed in all, nothing from another host."""
import re

BUDGET_BYTES = 30 * 1024
PHONE = {"Accept-Encoding": "gzip, deflate, br, zstd", "Accept-Language": "zh-CN,zh;q=0.9", "User-Agent": "Mozilla/5.0 (iPhone)"}


def first_load(client, url):
    page = client.get(url, headers=PHONE)
    html = client.get(url, headers={**PHONE, "Accept-Encoding": "identity"}).get_data(as_text=True)
    assets = re.findall(r'<(?:script|img|source)[^>]+src="([^"]+)"|<link[^>]+href="([^"]+)"', html)
    urls = [a or b for a, b in assets if not (a or b).startswith("data:")]  # inline, nothing to fetch
    responses = [("page", page)] + [(u, client.get(u, headers=PHONE)) for u in urls]
    return urls, responses


def test_survey_first_load_is_under_30_kb_compressed_and_same_host(client, demo):
    urls, responses = first_load(client, f"/s/{demo['tokens']['SH-PEOPLE']}")
    assert all(u.startswith("/") and not u.startswith("//") for u in urls), urls
    for name, response in responses:
        assert response.status_code == 200, name
        assert response.headers.get("Content-Encoding") in {"br", "gzip", "zstd", "deflate"}, name
    total = sum(len(response.get_data()) for _name, response in responses)
    print(f"survey first load: {total} bytes compressed in {len(responses)} responses")
    assert total <= BUDGET_BYTES
