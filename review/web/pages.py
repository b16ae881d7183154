"""What each page shows and each form does: one library call (on ``ctx.review``, acting as
the logged-in person) and the data its template and its JSON twin show.

Blind mode is the library's: every view of decisions passes the logged-in person as the
viewer (``Screening.state``, ``history``, ``status``), and the lead's views (conflicts,
agreement) are refused by the library while a stage is blind. No page takes a reviewer's
name from the request.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from starlette.responses import FileResponse, RedirectResponse, Response

from review.errors import AlreadyDecided
from review.screening.events import STAGE_NAMES, parse_decision, parse_stage
from review.web.app import SESSION_COOKIE, SVG_CSP, Ctx, Page, Redirect, WebError

if TYPE_CHECKING:
    from review.records import Record
    from review.screening.events import Stage
    from review.screening.highlight import Highlighter
    from review.screening.state import Retrieval
    from review.web.queues import Queues

CONFLICTS_SHOWN = 200


def _stage(ctx: Ctx) -> Stage:
    stage = parse_stage(ctx.params["stage"])
    ctx.review.screening.settings.check_stage(stage)
    return stage


def _cluster(text: str | None) -> int:
    value = (text or "").strip()
    if not value.isdigit() or len(value) > 12:
        raise WebError(400, f"{value!r} is not a cluster id (a whole number)")
    return int(value)


def _queues(ctx: Ctx) -> Queues:
    queues: Queues = ctx.extra["queues"]
    return queues


def _highlighter(ctx: Ctx) -> Highlighter:
    found: Highlighter = ctx.extra["highlighter"]
    return found


def _pieces(text: str | None, highlighter: Highlighter) -> list[list[Any]]:
    return [[piece, kind] for piece, kind in highlighter.pieces(text or "")]


def _record(record: Record, highlighter: Highlighter) -> dict[str, Any]:
    authors = [f"{a.last_name} {a.initials or ''}".strip() for a in record.authors if a.last_name]
    return {
        "title": record.title,
        "abstract": record.abstract,
        "title_marked": _pieces(record.title, highlighter),
        "abstract_marked": _pieces(record.abstract, highlighter),
        "authors": authors,
        "journal": record.journal,
        "year": record.year,
        "doi": record.doi,
        "pmid": record.pmid,
    }


def _full_text(cluster: int, got: Retrieval | None) -> dict[str, Any] | None:
    if got is None:
        return None
    location = got.location
    web = location is not None and location.lower().startswith(("http://", "https://"))
    link = location if web else (f"/fulltext/{cluster}" if location else None)
    return {"state": got.state, "location": location, "link": link, "reason": got.reason}


# --- the reviewer's pages ---------------------------------------------------------------


def home(ctx: Ctx) -> Response:
    first = ctx.review.screening.settings.stages[0]
    return RedirectResponse(f"/screen/{first}", status_code=303)


def logout(ctx: Ctx) -> Response:
    assert ctx.session is not None
    ctx.review.team.logout(ctx.session.token)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE)
    return response


def screen(ctx: Ctx) -> Page:
    """The reviewer's next record at a stage, highlighted, with the stage's reasons."""
    stage = _stage(ctx)
    screening = ctx.review.screening
    cluster, left = _queues(ctx).next(screening, stage, ctx.user)
    reasons = [
        {"number": n, "code": r.code, "label": r.label}
        for n, r in enumerate(screening.settings.reasons[stage], start=1)
    ]
    data: dict[str, Any] = {
        "reviewer": ctx.user,
        "stage": stage,
        "stage_name": STAGE_NAMES[stage],
        "left": left,
        "reasons": reasons,
        "reason_required": stage == "ft",
        "cluster": None,
        "record": None,
        "full_text": None,
        "recorded": _shown(ctx, "recorded", ("include", "exclude", "maybe")),
        "undone": _shown(ctx, "undone"),
    }
    if cluster is not None:
        item = screening.item(cluster)
        data["cluster"] = item.cluster_id
        data["records"] = list(item.members)
        data["record"] = _record(item.record, _highlighter(ctx))
        if stage == "ft":
            data["full_text"] = _full_text(cluster, screening.full_text(cluster))
    return Page("screen.html", data)


def _shown(ctx: Ctx, key: str, allowed: tuple[str, ...] = ()) -> str | None:
    """What the page after a POST says was done: a known decision, or a cluster id (the
    address is the browser's own; nothing else from it reaches the page)."""
    value = ctx.request.query_params.get(key, "")
    ok = value in allowed if allowed else value.isdigit() and len(value) <= 12
    return value if ok else None


def decide(ctx: Ctx) -> Redirect:
    """Record the logged-in reviewer's decision (committed before the reply)."""
    stage = _stage(ctx)
    screening = ctx.review.screening
    cluster = _cluster(ctx.fields.get("cluster"))
    decision = parse_decision(ctx.fields.get("decision", ""))
    reason = _reason(ctx, stage, ctx.fields.get("reason", "").strip()) or None
    change = ctx.fields.get("change") == "1"
    not_queued = WebError(
        409,
        f"cluster {cluster} is not in your {STAGE_NAMES[stage]} queue (you have decided "
        f"it, or it is not yours to screen); to change your decision open /records/{cluster}",
    )
    if not change and not screening.to_screen(cluster, stage=stage, reviewer=ctx.user):
        raise not_queued
    try:
        event = screening.decide(
            cluster,
            stage=stage,
            reviewer=ctx.user,
            decision=decision,
            reason=reason,
            note=ctx.fields.get("note") or None,
            via="web",
            first=not change,  # the check again, inside the write: two copies, one event
        )
    except AlreadyDecided:
        raise not_queued from None
    _queues(ctx).decided(stage, ctx.user, cluster)
    back = f"/records/{cluster}" if change else f"/screen/{stage}?recorded={decision}"
    return Redirect(back, {"recorded": event.as_dict()})


def _reason(ctx: Ctx, stage: Stage, given: str) -> str:
    """A reason by its code or its number in the stage's list (the key pressed)."""
    if not given.isdigit():
        return given
    known = ctx.review.screening.settings.reasons[stage]
    number = int(given)
    if not 1 <= number <= len(known):
        raise WebError(
            400, f"there is no reason {number} at {STAGE_NAMES[stage]}; use 1 to {len(known)}"
        )
    return known[number - 1].code


def undo(ctx: Ctx) -> Redirect:
    stage = _stage(ctx)
    event = ctx.review.screening.undo(stage=stage, reviewer=ctx.user, via="web")
    if event is None:
        raise WebError(409, f"you have no {STAGE_NAMES[stage]} decision to undo")
    cluster = event.paper.cluster_id
    _queues(ctx).back(stage, ctx.user, cluster)
    return Redirect(f"/screen/{stage}?undone={cluster}", {"undo": event.as_dict()})


def note(ctx: Ctx) -> Redirect:
    stage = _stage(ctx)
    cluster = _cluster(ctx.fields.get("cluster"))
    event = ctx.review.screening.note(
        cluster, stage=stage, reviewer=ctx.user, text=ctx.fields.get("text", ""), via="web"
    )
    back = ctx.fields.get("back") == "record"
    return Redirect(
        f"/records/{cluster}" if back else f"/screen/{stage}", {"note": event.as_dict()}
    )


def record(ctx: Ctx) -> Page:
    """One record and, per stage, what the logged-in person may see of its decisions
    (only their own while the stage is blind)."""
    cluster = _cluster(ctx.params["cluster"])
    screening = ctx.review.screening
    item = screening.item(cluster)
    stages = []
    for stage in screening.settings.stages:
        state = screening.state(item.cluster_id, stage=stage, viewer=ctx.user)
        mine = state.latest_of(ctx.user)
        stages.append(
            {
                "stage": stage,
                "stage_name": STAGE_NAMES[stage],
                "state": state.as_dict(),
                "mine": mine.as_dict() if mine else None,
                "reasons": [
                    {"number": n, "code": r.code, "label": r.label}
                    for n, r in enumerate(screening.settings.reasons[stage], start=1)
                ],
            }
        )
    _, trail = screening.history(item.cluster_id, viewer=ctx.user)
    data = {
        "cluster": item.cluster_id,
        "records": list(item.members),
        "record": _record(item.record, _highlighter(ctx)),
        "stages": stages,
        "history": [e.as_dict() for e in trail],
        "full_text": _full_text(item.cluster_id, screening.full_text(item.cluster_id)),
    }
    return Page("record.html", data)


def progress(ctx: Ctx) -> Page:
    """Progress per stage and reviewer (others' decision counts hidden while blind)."""
    statuses = ctx.review.screening.status(viewer=ctx.user)
    return Page("progress.html", {"stages": [s.as_dict() for s in statuses]})


def full_text_file(ctx: Ctx) -> Response:
    """A report's PDF, when its recorded location is a file on the server."""
    cluster = _cluster(ctx.params["cluster"])
    got = ctx.review.screening.full_text(cluster)
    location = got.location if got is not None else None
    if not location or location.lower().startswith(("http://", "https://")):
        raise WebError(404, f"cluster {cluster} has no full-text file recorded on this server")
    path = Path(location)
    if not path.is_absolute() and ctx.review.folder is not None:
        path = ctx.review.folder / path  # a relative --pdf (pdfs/12.pdf) is the folder's
    if not path.is_file():
        raise WebError(404, f"cluster {cluster}'s full text {path.name} is not on this server")
    return FileResponse(path, media_type="application/pdf", filename=path.name)


# --- the lead's pages -------------------------------------------------------------------


def lead(ctx: Ctx) -> Page:
    statuses = ctx.review.screening.status(viewer=ctx.user)
    return Page("lead.html", {"stages": [s.as_dict() for s in statuses]})


def conflicts(ctx: Ctx) -> Page:
    stage = _stage(ctx)
    screening = ctx.review.screening
    found = screening.conflicts(stage)
    shown = []
    for state in found[:CONFLICTS_SHOWN]:
        item = screening.item(state.cluster_id)
        shown.append({**state.as_dict(), "title": item.record.title})
    reasons = [
        {"number": n, "code": r.code, "label": r.label}
        for n, r in enumerate(screening.settings.reasons[stage], start=1)
    ]
    data = {
        "stage": stage,
        "stage_name": STAGE_NAMES[stage],
        "total": len(found),
        "conflicts": shown,
        "reasons": reasons,
    }
    return Page("conflicts.html", data)


def resolve(ctx: Ctx) -> Redirect:
    stage = _stage(ctx)
    cluster = _cluster(ctx.fields.get("cluster"))
    decision = parse_decision(ctx.fields.get("decision", ""))
    reason = _reason(ctx, stage, ctx.fields.get("reason", "").strip()) or None
    event, before = ctx.review.screening.resolve(
        cluster,
        stage=stage,
        decision=decision,
        by=ctx.user,
        reason=reason,
        why=ctx.fields.get("why") or None,
        via="web",
    )
    return Redirect(
        f"/lead/conflicts/{stage}", {"resolved": event.as_dict(), "before": before.as_dict()}
    )


def blinding(ctx: Ctx) -> Redirect:
    stage = _stage(ctx)
    wanted = ctx.fields.get("blind", "")
    if wanted not in ("0", "1"):
        raise WebError(400, f"blind must be 0 (unblind) or 1 (blind again), not {wanted!r}")
    screening = ctx.review.screening
    changed = (
        screening.blind(stage, by=ctx.user)
        if wanted == "1"
        else screening.unblind(stage, by=ctx.user)
    )
    return Redirect("/lead", {"stage": stage, "blind": wanted == "1", "changed": changed})


def agreement(ctx: Ctx) -> Page:
    stage = _stage(ctx)
    found = ctx.review.screening.agreement(stage)
    return Page(
        "agreement.html",
        {"stage": stage, "stage_name": STAGE_NAMES[stage], "agreement": found.as_dict()},
    )


def prisma(ctx: Ctx) -> Page:
    flow, blind = ctx.review.screening.flow()
    return Page("prisma.html", {"flow": flow.as_dict(), "blind_stages": list(blind)})


def prisma_svg(ctx: Ctx) -> Response:
    """The PRISMA 2020 diagram as it stands (``review/prisma``'s layout and drawing)."""
    import io

    import matplotlib
    import matplotlib.pyplot as plt

    from review.prisma.draw import font_measure, render
    from review.prisma.layout import layout

    flow, _ = ctx.review.screening.flow()
    fig = render(layout(flow, font_measure()))
    out = io.StringIO()
    try:
        with matplotlib.rc_context({"svg.fonttype": "none", "svg.hashsalt": "casepool-prisma"}):
            fig.savefig(out, format="svg", metadata={"Date": None})
    finally:
        plt.close(fig)
    return Response(
        out.getvalue(), media_type="image/svg+xml", headers={"Content-Security-Policy": SVG_CSP}
    )


ANY: frozenset[str] = frozenset()
ROUTES: tuple[tuple[str, Any, str, bool, frozenset[str]], ...] = (
    ("/screen/{stage}", screen, "GET", False, ANY),
    (
        "/screen/{stage}/decide",
        decide,
        "POST",
        False,
        frozenset({"cluster", "decision", "reason", "note", "change"}),
    ),
    ("/screen/{stage}/undo", undo, "POST", False, ANY),
    ("/screen/{stage}/note", note, "POST", False, frozenset({"cluster", "text", "back"})),
    ("/records/{cluster}", record, "GET", False, ANY),
    ("/progress", progress, "GET", False, ANY),
    ("/lead", lead, "GET", True, ANY),
    ("/lead/conflicts/{stage}", conflicts, "GET", True, ANY),
    (
        "/lead/resolve/{stage}",
        resolve,
        "POST",
        True,
        frozenset({"cluster", "decision", "reason", "why"}),
    ),
    ("/lead/blinding/{stage}", blinding, "POST", True, frozenset({"blind"})),
    ("/lead/agreement/{stage}", agreement, "GET", True, ANY),
    ("/lead/prisma", prisma, "GET", True, ANY),
)
"""Each page: path, handler, method, lead only, the fields its form takes. Each has its
JSON twin at the path with ``.json``."""
SINGLE: tuple[tuple[str, Any, str, bool, frozenset[str]], ...] = (
    ("/", home, "GET", False, ANY),
    ("/lead/prisma.svg", prisma_svg, "GET", True, ANY),
    ("/fulltext/{cluster}", full_text_file, "GET", False, ANY),
)
"""Routes without a JSON twin."""
