"""The screening pages over real HTTP on loopback (uvicorn in a thread), on SQLite and
PostgreSQL: login, the reviewer's next record and each key's POST, undo, notes, the record
page, progress, the lead's pages, and the exact error pages."""

from __future__ import annotations

from pathlib import Path

import pytest
import requests
from screening import ready_review
from web import PASSWORD, Client, add_team, served

from review.api import Review


@pytest.fixture
def team_review(review_dir: Path) -> Path:
    ready_review(review_dir, 4)
    add_team(review_dir)
    return review_dir


@pytest.fixture
def base(team_review: Path):
    with served(team_review) as url:
        yield url


def test_the_next_record_has_its_terms_highlighted_and_the_stage_reasons(base: str) -> None:
    ana = Client(base, "ana")
    page = ana.get("/screen/ta.json").json()
    assert page["reviewer"] == "ana" and page["cluster"] == 1 and page["left"] == 4
    assert ["systemic sclerosis", "include"] in page["record"]["abstract_marked"]
    assert page["reasons"][0] == {"number": 1, "code": "not-ssc", "label": "Not systemic sclerosis"}
    html = ana.get("/screen/ta").text
    assert '<mark class="include">systemic sclerosis</mark>' in html
    assert 'name="csrf" value="' + ana.csrf + '"' in html


def test_each_decision_is_committed_and_the_queue_moves_on(base: str, team_review: Path) -> None:
    ana = Client(base, "ana")
    reply = ana.post("/screen/ta/decide.json", {"cluster": 1, "decision": "include"})
    assert reply.status_code == 200
    assert reply.json()["recorded"]["person"] == "ana"
    assert reply.json()["recorded"]["via"] == "web"
    reply = ana.form("/screen/ta/decide", {"cluster": "2", "decision": "exclude", "reason": "2"})
    assert reply.status_code == 303 and reply.headers["location"] == "/screen/ta?recorded=exclude"
    assert ana.get("/screen/ta.json").json()["cluster"] == 3
    with Review.open(team_review) as review:
        assert review.screening.queue("ta", "ana") == [3, 4]
        state = review.screening.state(2, stage="ta", viewer="ana")
    assert [(v.person, v.decision, v.reason) for v in state.votes] == [
        ("ana", "exclude", "no-calcinosis")
    ]


def test_a_second_press_on_a_decided_record_is_refused_not_duplicated(
    base: str, team_review: Path
) -> None:
    ana = Client(base, "ana")
    assert ana.post("/screen/ta/decide.json", {"cluster": 1, "decision": "include"}).ok
    again = ana.post("/screen/ta/decide.json", {"cluster": 1, "decision": "include"})
    assert again.status_code == 409
    assert again.json()["error"] == (
        "cluster 1 is not in your title/abstract queue (you have decided it, or it is not "
        "yours to screen); to change your decision open /records/1"
    )
    changed = ana.post("/screen/ta/decide.json", {"cluster": 1, "decision": "maybe", "change": 1})
    assert changed.json()["recorded"]["decision"] == "maybe"


def test_undo_brings_the_record_back_first(base: str) -> None:
    ana = Client(base, "ana")
    ana.post("/screen/ta/decide.json", {"cluster": 1, "decision": "include"})
    ana.post("/screen/ta/decide.json", {"cluster": 2, "decision": "include"})
    reply = ana.form("/screen/ta/undo", {})
    assert reply.status_code == 303 and reply.headers["location"] == "/screen/ta?undone=2"
    assert ana.get("/screen/ta.json").json()["cluster"] == 2
    assert "Undone: cluster 2 is back" in ana.get("/screen/ta?undone=2").text


def test_undo_with_nothing_to_undo_says_so(base: str) -> None:
    reply = Client(base, "ana").post("/screen/ta/undo.json")
    assert reply.status_code == 409
    assert reply.json() == {"error": "you have no title/abstract decision to undo", "status": 409}


def test_a_note_is_kept_with_the_record(base: str) -> None:
    ana = Client(base, "ana")
    assert ana.post("/screen/ta/note.json", {"cluster": 1, "text": "check the dose"}).ok
    page = ana.get("/records/1.json").json()
    assert [(e["kind"], e["note"]) for e in page["history"]] == [("note", "check the dose")]


def test_a_full_text_exclusion_needs_a_reason_and_shows_the_pdf(
    base: str, team_review: Path, tmp_path: Path
) -> None:
    pdf = tmp_path / "paper1.pdf"
    pdf.write_bytes(b"%PDF-1.4 test")
    with Review.open(team_review) as review:
        review.screening.unblind("ta", by="lee")
        review.screening.resolve(1, stage="ta", decision="include", by="lee")
        review.screening.retrieved(1, pdf=str(pdf))
    ana = Client(base, "ana")
    page = ana.get("/screen/ft.json").json()
    assert page["cluster"] == 1 and page["reason_required"] is True
    assert page["full_text"] == {
        "state": "retrieved",
        "location": str(pdf),
        "link": "/fulltext/1",
        "reason": None,
    }
    assert ana.get("/fulltext/1").content == b"%PDF-1.4 test"
    refused = ana.post("/screen/ft/decide.json", {"cluster": 1, "decision": "exclude"})
    assert refused.status_code == 400
    assert refused.json()["error"].startswith(
        "an exclusion at full text needs a reason; give one of: not-ssc, no-calcinosis"
    )
    assert ana.post("/screen/ft/decide.json", {"cluster": 1, "decision": "exclude", "reason": 3}).ok


def test_progress_counts_everyone_but_shows_only_own_decisions_while_blind(base: str) -> None:
    ana, ben = Client(base, "ana"), Client(base, "ben")
    ana.post("/screen/ta/decide.json", {"cluster": 1, "decision": "include"})
    ben.post("/screen/ta/decide.json", {"cluster": 1, "decision": "exclude"})
    (ta, _ft) = ana.get("/progress.json").json()["stages"]
    assert ta["blind"] is True and ta["statuses"] is None
    assert ta["reviewers"]["ana"]["include"] == 1
    assert ta["reviewers"]["ben"] == {"assigned": 0, "done": 1}


def test_the_lead_unblinds_and_resolves_a_conflict(base: str, team_review: Path) -> None:
    ana, ben, lee = Client(base, "ana"), Client(base, "ben"), Client(base, "lee")
    ana.post("/screen/ta/decide.json", {"cluster": 1, "decision": "include"})
    ben.post("/screen/ta/decide.json", {"cluster": 1, "decision": "exclude"})
    blind = lee.get("/lead/conflicts/ta.json")
    assert blind.status_code == 403
    assert blind.json()["error"] == (
        "title/abstract screening is blind: each reviewer sees only their own decisions "
        "until a lead unblinds it ('casepool screen unblind --stage ta --by LEAD')"
    )
    assert lee.form("/lead/blinding/ta", {"blind": "0"}).headers["location"] == "/lead"
    found = lee.get("/lead/conflicts/ta.json").json()
    assert [c["cluster"] for c in found["conflicts"]] == [1]
    assert found["conflicts"][0]["why"] == "ana: include / ben: exclude"
    reply = lee.form("/lead/resolve/ta", {"cluster": "1", "decision": "include", "why": "RTX"})
    assert reply.status_code == 303
    assert lee.get("/lead/conflicts/ta.json").json()["conflicts"] == []
    agreement = lee.get("/lead/agreement/ta.json").json()["agreement"]
    assert agreement["pairs"][0]["reviewers"] == ["ana", "ben"]
    with Review.open(team_review) as review:
        state = review.screening.state(1, stage="ta")
    assert state.final is not None and state.final.person == "lee"


def test_the_prisma_diagram_is_drawn_as_it_stands(base: str) -> None:
    lee = Client(base, "lee")
    page = lee.get("/lead/prisma.json").json()
    assert page["blind_stages"] == ["ta", "ft"]
    svg = lee.get("/lead/prisma.svg")
    assert svg.headers["content-type"] == "image/svg+xml"
    assert "<svg" in svg.text and "Records screened" in svg.text
    assert '<img src="/lead/prisma.svg"' in lee.get("/lead/prisma").text


def test_a_reviewer_cannot_open_the_lead_pages(base: str) -> None:
    ana = Client(base, "ana")
    for path in ("/lead", "/lead/conflicts/ta", "/lead/agreement/ta", "/lead/prisma.svg"):
        reply = ana.get(path)
        assert reply.status_code == 403, path
        assert "Error: only a lead can open this page; ana is a reviewer of this review" in (
            reply.text
        )
    refused = ana.post("/lead/resolve/ta.json", {"cluster": 1, "decision": "include"})
    assert refused.status_code == 403


def test_pages_need_a_login(base: str) -> None:
    page = requests.get(base + "/screen/ta", allow_redirects=False, timeout=10)
    assert page.status_code == 303 and page.headers["location"] == "/login"
    twin = requests.get(base + "/screen/ta.json", timeout=10)
    assert twin.status_code == 401
    assert twin.json() == {
        "error": "log in first (POST /login with name and password)",
        "status": 401,
    }


@pytest.mark.parametrize(
    ("path", "status", "message"),
    [
        (
            "/screen/xx.json",
            400,
            "'xx' is not a screening stage; use ta (title/abstract) or ft (full text)",
        ),
        ("/records/abc.json", 400, "'abc' is not a cluster id (a whole number)"),
        (
            "/records/999.json",
            400,
            "there is no cluster 999 in this review; 'casepool screen queue' and 'casepool "
            "export' list the cluster ids",
        ),
    ],
)
def test_bad_addresses_get_one_line_errors(base: str, path: str, status: int, message: str) -> None:
    reply = Client(base, "ana").get(path)
    assert (reply.status_code, reply.json()) == (status, {"error": message, "status": status})


def test_an_unknown_page_is_a_404_page(base: str) -> None:
    reply = Client(base, "ana").get("/admin")
    assert reply.status_code == 404
    assert "Error: there is no page /admin" in reply.text


def test_a_wrong_password_is_refused_with_the_same_words_as_an_unknown_name(base: str) -> None:
    for name in ("ana", "nobody"):
        reply = requests.post(base + "/login", json={"name": name, "password": "wrong"}, timeout=30)
        assert (reply.status_code, reply.json()["error"]) == (401, "wrong name or password")


def test_the_login_form_logs_in_and_out(base: str) -> None:
    http = requests.Session()
    form = http.get(base + "/login", timeout=10).text
    token = form.split('name="csrf" value="')[1].split('"')[0]
    reply = http.post(
        base + "/login",
        data={"name": "ana", "password": PASSWORD, "csrf": token},
        allow_redirects=False,
        timeout=30,
    )
    assert reply.status_code == 303 and reply.headers["location"] == "/"
    page = http.get(base + "/screen/ta", timeout=10).text
    csrf = page.split('name="csrf" value="')[1].split('"')[0]
    out = http.post(base + "/logout", data={"csrf": csrf}, allow_redirects=False, timeout=10)
    assert out.headers["location"] == "/login"
    assert http.get(base + "/screen/ta.json", timeout=10).status_code == 401
