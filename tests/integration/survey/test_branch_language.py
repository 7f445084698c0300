"""Language fallback per branch (issue 11 item 10): a phone that asks for a language Loopdesk does not
have gets the branch's language (London: English), and the chain's default only where the branch has none."""
import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import Branch
from app.services.survey.entries import forget_cached_codes

FRENCH_PHONE = {"Accept-Language": "fr-FR,fr;q=0.9,de;q=0.8"}


def _lang(client, token, headers) -> str:
    page = client.get(f"/s/{token}", headers=headers).get_data(as_text=True)
    return page.split('<html lang="', 1)[1].split('"', 1)[0]


@pytest.mark.parametrize("app", [{"LOOPDESK_DEFAULT_LOCALE": "zh_Hans"}], indirect=True)
def test_a_french_phone_reads_the_branch_language_and_the_chain_default_elsewhere(app, demo):
    assert _lang(app.test_client(), demo["tokens"]["LDN-SOHO"], FRENCH_PHONE) == "en"
    assert _lang(app.test_client(), demo["tokens"]["SH-PEOPLE"], FRENCH_PHONE) == "zh-Hans"
    # the phone's own supported language still comes first
    assert _lang(app.test_client(), demo["tokens"]["LDN-SOHO"], {"Accept-Language": "zh-CN,zh;q=0.9"}) == "zh-Hans"
    assert _lang(app.test_client(), demo["tokens"]["SH-PEOPLE"], {"Accept-Language": "en-GB"}) == "en"


@pytest.mark.parametrize("app", [{"LOOPDESK_DEFAULT_LOCALE": "zh_Hans"}], indirect=True)
def test_a_branch_set_to_english_speaks_english_to_a_german_phone_through_the_whole_survey(app, demo):
    with app.app_context():
        db.session.scalar(select(Branch).where(Branch.code == "HZ-WESTLAKE")).default_language = "en"
        db.session.commit()
        forget_cached_codes()
    client = app.test_client()
    token = demo["tokens"]["HZ-WESTLAKE"]
    assert _lang(client, token, {"Accept-Language": "de-DE"}) == "en"
    page = client.get(f"/s/{token}/thanks", headers={"Accept-Language": "de-DE"}).get_data(as_text=True)
    assert '<html lang="en"' in page
    # an unknown code keeps the chain's default
    assert _lang(app.test_client(), "no-such-code", {"Accept-Language": "de-DE"}) == "zh-Hans"
