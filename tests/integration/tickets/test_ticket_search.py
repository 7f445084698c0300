"""Finding a ticket from the queue: by code, phone, e-mail or words, only ever within the user's scope."""
import pytest
from sqlalchemy import select, text

from app.extensions import db
from app.models import Branch, Department, Ticket, User
from app.services import tickets as ticket_service
from app.services.tickets import opening, search
from tests.conftest import login

#: name: (branch, department, phone, e-mail, subject, description)
TICKETS = {
    "sh_service": ("SH-PEOPLE", "service", "138-0013-8000", "Li.Wei@Example.com", "排队等了很久，服务员态度很差",
                   "The coffee was cold and nobody refunded it."),
    "sh_ops": ("SH-PEOPLE", "operations", "139 1111 2222", "zhang@example.cn", "洗手间没有纸", "Toilet had no paper."),
    "london": ("LDN-SOHO", "operations", "+44 7700 900123", "sam@example.co.uk", "Music was too loud",
               "They promised 50% off_next time."),
}


@pytest.fixture
def tickets(app, demo):
    """Three phone tickets opened by the admin through the service; their codes and ids by name."""
    with app.app_context():
        admin = db.session.scalar(select(User).where(User.username == "admin"))
        made = {}
        for name, (branch, department, phone, email, subject, description) in TICKETS.items():
            ticket = opening.create_ticket(
                admin,
                branch_id=db.session.scalar(select(Branch.id).where(Branch.code == branch)),
                department_id=db.session.scalar(select(Department.id).where(Department.code == department)),
                category=None, priority="normal", subject=subject, description=description,
                contact_consent=True, contact_phone=phone, contact_email=email,
            )
            made[name] = ticket
        db.session.commit()
        return {name: (ticket.reference_code, ticket.id) for name, ticket in made.items()}


def found_codes(app, username, query):
    with app.app_context():
        user = db.session.scalar(select(User).where(User.username == username))
        return [result.ticket.reference_code for result in search.search(user, query)]


def code_of(tickets, name):
    return tickets[name][0]


@pytest.mark.parametrize("spoken", ["{code}", "{lower}", "{bare}", "{spaced}", "{bare_lower}"])
def test_staff_find_their_ticket_by_the_code_however_it_is_read_out(app, tickets, spoken):
    code = code_of(tickets, "sh_service")
    bare = code[3:]
    query = spoken.format(code=code, lower=code.lower(), bare=bare, spaced=f"ld {bare[:3]} {bare[3:]}", bare_lower=bare.lower())
    assert found_codes(app, "staff", query)[0] == code


@pytest.mark.parametrize("said", ["138 0013 8000", "+86 138 0013 8000", "0086-138-0013-8000", "13800138000", "0013 8000"])
def test_staff_find_their_ticket_by_the_phone_number_as_the_customer_reads_it(app, tickets, said):
    assert code_of(tickets, "sh_service") in found_codes(app, "staff", said)


def test_a_uk_number_given_internationally_finds_the_ticket_stored_as_given(app, tickets):
    for said in ("+44 7700 900123", "07700 900123", "900123"):
        assert code_of(tickets, "london") in found_codes(app, "staff.london", said)


def test_the_email_is_found_whatever_its_capitals(app, tickets):
    for said in ("li.wei@example.com", "LI.WEI@EXAMPLE.COM", "Li.Wei@"):
        assert found_codes(app, "staff", said) == [code_of(tickets, "sh_service")]


def test_words_of_the_complaint_in_chinese_and_english(app, tickets):
    code = code_of(tickets, "sh_service")
    assert code in found_codes(app, "staff", "态度")
    assert code in found_codes(app, "staff", "服务员态度很差")
    assert code in found_codes(app, "staff", "COLD Coffee")
    assert code in found_codes(app, "staff", "refund")  # "refunded"
    assert code in found_codes(app, "staff", "等了 cold")
    assert found_codes(app, "staff", "cold music") == []  # every word must be there


def test_notes_replies_and_calls_are_searched_and_shown_as_the_snippet(app, tickets):
    with app.app_context():
        staff = db.session.scalar(select(User).where(User.username == "staff"))
        ticket = db.session.get(Ticket, tickets["sh_service"][1])
        ticket_service.add_note(ticket, staff, "Customer wants invoice 4471 re-issued", ticket_service.page_version(ticket))
        ticket_service.log_call(ticket, staff, "客户说下周再来门店", ticket_service.page_version(ticket))
        db.session.commit()
        results = search.search(staff, "INVOICE")
        assert [r.ticket.reference_code for r in results] == [code_of(tickets, "sh_service")]
        assert results[0].snippet.match == "invoice" and "4471" in results[0].snippet.after
        assert [r.ticket.reference_code for r in search.search(staff, "下周再来")] == [code_of(tickets, "sh_service")]


def test_search_never_crosses_branches_or_departments(app, tickets):
    sh_service, sh_ops, london = (code_of(tickets, name) for name in ("sh_service", "sh_ops", "london"))
    # staff: SH-PEOPLE × service. Same branch, other department; other branch: nothing, by code, phone, e-mail or words.
    for query in (sh_ops, sh_ops[3:].lower(), "139 1111 2222", "2222", "zhang@example.cn", "洗手间没有纸",
                  london, "+44 7700 900123", "sam@example.co.uk", "Music was too loud"):
        assert found_codes(app, "staff", query) == [], query
    # staff.london: LDN-SOHO × operations sees nothing of Shanghai.
    for query in (sh_service, sh_ops, "138 0013 8000", "139 1111 2222", "li.wei@example.com", "态度", "洗手间"):
        assert found_codes(app, "staff.london", query) == [], query
    # the supervisor has both Chinese branches, every department; the admin everything.
    assert found_codes(app, "supervisor", sh_ops) == [sh_ops]
    assert found_codes(app, "supervisor", london) == []
    assert found_codes(app, "admin", london) == [london]


def test_a_user_without_departments_finds_nothing(app, tickets):
    with app.app_context():
        db.session.scalar(select(User).where(User.username == "staff")).departments = []
        db.session.commit()
    assert found_codes(app, "staff", code_of(tickets, "sh_service")) == []


def test_resolved_tickets_are_found_too(app, tickets):
    with app.app_context():
        staff = db.session.scalar(select(User).where(User.username == "staff"))
        ticket = db.session.get(Ticket, tickets["sh_service"][1])
        ticket_service.change_status(ticket, staff, "resolved", ticket_service.page_version(ticket))
        db.session.commit()
    assert found_codes(app, "staff", code_of(tickets, "sh_service")) == [code_of(tickets, "sh_service")]


@pytest.mark.parametrize("query", ["%", "_", "%%", "\\", "_%_", "'; DROP TABLE tickets; --", "x" * 10_000, "\x00", "a\x00%"])
def test_wildcards_quotes_nul_and_long_queries_match_only_themselves(app, tickets, query):
    folded = query.replace("\x00", "")[:100]
    with app.app_context():
        holding = {code for code, text_ in db.session.execute(select(Ticket.reference_code, Ticket.search_text))
                   if folded.strip() and folded in text_}
    assert len(holding) < search.LIMIT
    assert set(found_codes(app, "admin", query)) == holding


def test_a_percent_sign_typed_is_a_percent_sign(app, tickets):
    assert found_codes(app, "admin", "50% off_next") == [code_of(tickets, "london")]
    assert found_codes(app, "admin", "50_ off") == []


def test_a_survey_complaint_is_found_by_its_code_phone_and_words(app, client, demo):
    from tests.integration.tickets.test_ticket_pages import complain

    code = complain(app.test_client(), demo["tokens"]["SH-PEOPLE"], phone="186 2222 3333")
    assert found_codes(app, "staff", code.lower()) == [code]
    assert code in found_codes(app, "staff", "18622223333")
    assert code in found_codes(app, "staff", "态度很差")



def test_a_survey_complaint_without_words_is_found_by_its_ticked_options_in_either_language(app, client, demo):
    from tests.conftest import SurveyWalker

    walker = SurveyWalker(app.test_client(), demo["tokens"]["SH-PEOPLE"])
    walker.open()
    for key, value in [("product", 4), ("service", 1), ("service_problem", ["waiting"]),
                       ("environment", 4), ("nps", 3), ("comment", "")]:
        walker.answer(**{key: value})
    with app.app_context():
        ticket = db.session.scalars(select(Ticket).order_by(Ticket.id.desc()).limit(1)).one()
        code, subject = ticket.reference_code, ticket.subject
    assert subject == ""  # worded when read, from the ticked option
    assert code in found_codes(app, "staff", "等待时间")
    assert code in found_codes(app, "staff", "waiting")

# --- The queue page --------------------------------------------------------------------------


def test_the_queue_page_has_one_search_box_that_works_without_javascript(app, client, tickets, demo):
    login(client, "staff", demo["passwords"]["staff"])
    page = client.get("/staff/queue").get_data(as_text=True)
    assert page.count('name="q"') == 1 and 'method="get"' in page and 'hx-get="/staff/queue"' in page
    code = code_of(tickets, "sh_service")
    page = client.get("/staff/queue", query_string={"q": "态度"}).get_data(as_text=True)
    assert code in page and "上海人民广场店" in page and "New" in page
    assert "服务员<mark>态度</mark>很差" in page
    assert "Tickets found for “态度” in your branches and departments, any status: 1" in page


def test_the_live_search_returns_only_the_results(app, client, tickets, demo):
    login(client, "staff", demo["passwords"]["staff"])
    response = client.get("/staff/queue", query_string={"q": "138 0013 8000"}, headers={"HX-Request": "true"})
    body = response.get_data(as_text=True)
    assert response.status_code == 200 and "HX-Request" in response.headers["Vary"]
    assert body.lstrip().startswith('<div id="queue-rows"') and code_of(tickets, "sh_service") in body
    assert "<html" not in body


def test_a_search_out_of_scope_shows_nothing_on_the_page(app, client, tickets, demo):
    login(client, "staff.london", demo["passwords"]["staff.london"])
    code = code_of(tickets, "sh_service")
    for query in (code, "138 0013 8000", "li.wei@example.com"):
        page = client.get("/staff/queue", query_string={"q": query}).get_data(as_text=True)
        results = page.split('class="search-summary"', 1)[1].replace(f"“{query}”", "")
        assert code not in results and "/staff/tickets/" not in results
        assert "No ticket of yours matches" in page


@pytest.mark.parametrize("query", ["%", "x" * 5000, "<script>alert(1)</script>", "_%\\"])
def test_bad_queries_get_a_page_not_an_error(client, tickets, demo, query):
    login(client, "staff", demo["passwords"]["staff"])
    response = client.get("/staff/queue", query_string={"q": query})
    assert response.status_code == 200
    assert "<script>alert(1)</script>" not in response.get_data(as_text=True)


def test_a_nul_in_the_search_is_refused_like_every_nul(client, demo):
    login(client, "staff", demo["passwords"]["staff"])
    assert client.get("/staff/queue", query_string={"q": "LD\x00"}).status_code == 400


def test_the_search_speaks_chinese(client, tickets, demo):
    login(client, "staff", demo["passwords"]["staff"])
    page = client.get("/staff/queue", query_string={"q": "nothing-like-this"}, headers={"Accept-Language": "zh-CN"})
    text_ = page.get_data(as_text=True)
    assert "查找工单" in text_ and "您负责的工单中没有相符的" in text_


# --- PostgreSQL: the trigram index -----------------------------------------------------------


@pytest.mark.parametrize("word", ["服务员态度", "态度", "refunded"])
def test_postgresql_finds_words_through_the_trigram_index(app, tickets, word):
    with app.app_context():
        if db.engine.dialect.name != "postgresql":
            pytest.skip("the trigram index is PostgreSQL's")
        condition = search._contains(word)
        statement = select(Ticket.id).where(condition)
        sql = str(statement.compile(db.engine, compile_kwargs={"literal_binds": True}))
        assert "ILIKE" in sql
        db.session.execute(text("SET LOCAL enable_seqscan = off"))
        plan = "\n".join(db.session.scalars(text(f"EXPLAIN (ANALYZE) {sql}")))
        assert "Bitmap Index Scan on ix_tickets_search_text_trgm" in plan, plan
        # the pattern has trigrams of its own (two Chinese characters too, doubled): no ticket is read in vain
        assert "Rows Removed by Index Recheck" not in plan, plan
        db.session.rollback()
