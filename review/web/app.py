"""The team's screening pages on Starlette: sessions, CSRF, error pages, and the routes'
plumbing (``review.web.pages`` holds what each page shows).

Every route runs its library calls in a worker thread (the store is synchronous); every
page has a JSON twin at the same path with ``.json``. A request is acted on as the person
logged in (``Review.acting_as``): no form field or parameter names the reviewer.

Security, in one place:

- the session cookie (a random token; the store keeps its SHA-256) is ``HttpOnly`` and
  ``SameSite=Strict``, and ``Secure`` unless the server listens on loopback only and the
  request came over plain http (behind a TLS proxy, ``X-Forwarded-Proto: https`` from
  127.0.0.1 makes it Secure);
- login always makes a new session, whatever cookie the browser brought (no fixation);
- every POST (forms and JSON) carries the session's CSRF token (form field ``csrf`` or
  header ``X-CSRF-Token``), compared in constant time, and a cross-site ``Origin`` is
  refused; the login form has its own token (a cookie it must match);
- logins are rate-limited per name and per address in the store (``review.team``);
- templates autoescape every value (a record's title and abstract come from outside) and
  a Content-Security-Policy allows scripts and styles from this server only.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from review.errors import BlindError, LoginRateLimited, ReviewError
from review.web.queues import Queues

if TYPE_CHECKING:
    from review.api import Review
    from review.team.workflow import Session

HERE = Path(__file__).resolve().parent
SESSION_COOKIE = "casepool_session"
LOGIN_COOKIE = "casepool_login"
BODY_LIMIT = 64 * 1024
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
SVG_CSP = "default-src 'none'; style-src 'unsafe-inline'"
CSRF_REFUSED = "this form's security token is missing or out of date; reload the page and try again"
Format = Literal["html", "json"]


class WebError(Exception):
    """A request refused with an HTTP status and a one-line message for the page."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass
class Ctx:
    """One request as a page sees it: the review acting as the logged-in person, the form
    or JSON fields, the path's parameters and which twin was asked for."""

    request: Request
    review: Review
    session: Session | None
    fields: Mapping[str, str]
    params: Mapping[str, str]
    fmt: Format
    is_lead: bool = False
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def user(self) -> str:
        assert self.session is not None
        return self.session.user.name


@dataclass(frozen=True)
class Page:
    """What a handler returns: a template and its data (the JSON twin is the data)."""

    template: str
    data: dict[str, Any]
    status: int = 200


@dataclass(frozen=True)
class Redirect:
    """After a form's POST: go there (a JSON POST gets ``data`` instead)."""

    to: str
    data: dict[str, Any]


Handler = Callable[[Ctx], "Page | Redirect | Response"]


def is_loopback(host: str) -> bool:
    return host in ("127.0.0.1", "::1", "localhost") or host.startswith("127.")


class Web:
    """The pages of one server process over one open review."""

    def __init__(self, review: Review, *, loopback: bool = True) -> None:
        self.review = review
        self.loopback = loopback
        self.queues = Queues()
        self.highlighter = review.screening.highlighter()
        self.env = Environment(
            loader=FileSystemLoader(HERE / "templates"),
            autoescape=select_autoescape(default=True, default_for_string=True),
            trim_blocks=True,
            lstrip_blocks=True,
        )
        self.env.globals["stage_names"] = {"ta": "title/abstract", "ft": "full text"}

    # --- the app ------------------------------------------------------------------------

    def app(self) -> Starlette:
        from review.web import pages

        routes: list[Route | Mount] = [
            Route("/login", self._login_get, methods=["GET"]),
            Route("/login", self._login, methods=["POST"]),
            Route("/logout", self.endpoint(pages.logout, login=True), methods=["POST"]),
            Mount("/static", app=StaticFiles(directory=HERE / "static"), name="static"),
        ]
        for path, handler, method, lead, allowed in pages.SINGLE:
            routes.append(
                Route(path, self.endpoint(handler, lead=lead, allowed=allowed), methods=[method])
            )
        for path, handler, method, lead, allowed in pages.ROUTES:
            for fmt in ("json", "html"):
                suffix = ".json" if fmt == "json" else ""
                routes.append(
                    Route(
                        path + suffix,
                        self.endpoint(handler, lead=lead, fmt=fmt, allowed=allowed),
                        methods=[method],
                    )
                )
        return Starlette(
            routes=routes,
            exception_handlers={HTTPException: self._http_error},  # type: ignore[dict-item]
        )

    def endpoint(
        self,
        handler: Handler,
        *,
        login: bool = True,
        lead: bool = False,
        fmt: Format = "html",
        allowed: frozenset[str] = frozenset(),
    ) -> Callable[[Request], Awaitable[Response]]:
        async def handle(request: Request) -> Response:
            wants: Format = fmt
            try:
                fields, as_json = await read_fields(request)
                if as_json:
                    wants = "json"
                response = await run_in_threadpool(
                    self._run, handler, request, fields, wants, login, lead, allowed
                )
            except WebError as refused:
                response = self.error(request, refused.status, refused.message, wants)
            return self.harden(request, response)

        return handle

    def _run(
        self,
        handler: Handler,
        request: Request,
        fields: dict[str, str],
        fmt: Format,
        login: bool,
        lead: bool,
        allowed: frozenset[str],
    ) -> Response:
        session = self.session_of(request)
        if login and session is None:
            if fmt == "json":
                raise WebError(401, "log in first (POST /login with name and password)")
            return RedirectResponse("/login", status_code=303)
        if request.method == "POST":
            self.check_post(request, fields, session)
            unknown = sorted(set(fields) - allowed - {"csrf"})
            if unknown:
                raise WebError(
                    400,
                    f"unexpected field {unknown[0]!r}; this form takes "
                    f"{', '.join(sorted(allowed)) or 'no fields'} (you always act as yourself)",
                )
        review = self.review.acting_as(session.user.name) if session else self.review
        ctx = Ctx(request, review, session, fields, dict(request.path_params), fmt)
        ctx.extra.update(queues=self.queues, highlighter=self.highlighter)
        if session is not None:
            ctx.is_lead = review.team.is_lead(session.user)
        try:
            if lead and not ctx.is_lead:
                raise WebError(
                    403, f"only a lead can open this page; {ctx.user} is a reviewer of this review"
                )
            try:
                result = handler(ctx)
            except BlindError as exc:
                raise WebError(403, str(exc)) from None
            except ReviewError as exc:
                raise WebError(400, str(exc)) from None
        except WebError as refused:
            if fmt == "json":
                raise
            data = {"status": refused.status, "message": refused.message}
            return self.render(request, "error.html", data, ctx, refused.status)
        return self.respond(ctx, result)

    def respond(self, ctx: Ctx, result: Page | Redirect | Response) -> Response:
        if isinstance(result, Response):
            return result
        if isinstance(result, Redirect):
            if ctx.fmt == "json":
                return JSONResponse(result.data)
            return RedirectResponse(result.to, status_code=303)
        if ctx.fmt == "json":
            return JSONResponse(result.data, status_code=result.status)
        return self.render(ctx.request, result.template, result.data, ctx, result.status)

    def render(
        self,
        request: Request,
        template: str,
        data: Mapping[str, Any],
        ctx: Ctx | None = None,
        status: int = 200,
    ) -> HTMLResponse:
        session = ctx.session if ctx is not None else None
        context = {
            **data,
            "me": session.user.name if session else None,
            "csrf": session.csrf_token if session else None,
            "is_lead": ctx.is_lead if ctx is not None else False,
            "nav_stages": ctx.review.screening.settings.stages if ctx else (),
            "json_url": request.url.path + ".json",
        }
        body = self.env.get_template(template).render(context)
        return HTMLResponse(body, status_code=status)

    def error(self, request: Request, status: int, message: str, fmt: Format) -> Response:
        if fmt == "json" or request.url.path.endswith(".json"):
            return JSONResponse({"error": message, "status": status}, status_code=status)
        return self.render(
            request, "error.html", {"status": status, "message": message}, status=status
        )

    async def _http_error(self, request: Request, exc: HTTPException) -> Response:
        messages = {
            404: f"there is no page {request.url.path}",
            405: f"{request.method} is not allowed on {request.url.path}",
        }
        message = messages.get(exc.status_code, str(exc.detail))
        return self.harden(request, self.error(request, exc.status_code, message, "html"))

    # --- security -----------------------------------------------------------------------

    def secure(self, request: Request) -> bool:
        """Whether cookies get ``Secure``: always, but for plain http on a loopback-only
        server (where there is no TLS to require and no network to listen on)."""
        return request.url.scheme == "https" or not self.loopback

    def harden(self, request: Request, response: Response) -> Response:
        headers = response.headers
        if "content-security-policy" not in headers:
            headers["Content-Security-Policy"] = CSP
        headers["X-Content-Type-Options"] = "nosniff"
        headers["X-Frame-Options"] = "DENY"
        headers["Referrer-Policy"] = "same-origin"  # no-referrer would make Origin "null"
        if not request.url.path.startswith("/static/"):
            headers["Cache-Control"] = "no-store"
        if self.secure(request) and request.url.scheme == "https":
            headers["Strict-Transport-Security"] = "max-age=31536000"
        return response

    def session_of(self, request: Request) -> Session | None:
        token = request.cookies.get(SESSION_COOKIE, "")
        return self.review.team.session(token) if token else None

    def check_post(
        self, request: Request, fields: Mapping[str, str], session: Session | None
    ) -> None:
        origin = request.headers.get("origin")
        if origin is not None and origin != own_origin(request):
            raise WebError(403, f"a request from {origin} is refused: this form is not from it")
        given = fields.get("csrf") or request.headers.get("x-csrf-token") or ""
        expected = session.csrf_token if session is not None else ""
        if not expected or not secrets.compare_digest(given.encode(), expected.encode()):
            raise WebError(403, CSRF_REFUSED)

    def set_session_cookie(self, request: Request, response: Response, token: str) -> None:
        response.set_cookie(
            SESSION_COOKIE,
            token,
            max_age=12 * 3600,
            httponly=True,
            samesite="strict",
            secure=self.secure(request),
        )

    # --- login (before there is a session) ------------------------------------------------

    async def _login_get(self, request: Request) -> Response:
        session = await run_in_threadpool(self.session_of, request)
        if session is not None:
            return self.harden(request, RedirectResponse("/", status_code=303))
        return self.harden(request, self.login_page(request))

    async def _login(self, request: Request) -> Response:
        try:
            fields, as_json = await read_fields(request)
        except WebError as refused:
            return self.harden(
                request, self.error(request, refused.status, refused.message, "html")
            )
        fmt: Format = "json" if as_json else "html"
        response = await run_in_threadpool(self._do_login, request, fields, fmt)
        return self.harden(request, response)

    def _do_login(self, request: Request, fields: Mapping[str, str], fmt: Format) -> Response:
        origin = request.headers.get("origin")
        if origin is not None and origin != own_origin(request):
            return self.error(request, 403, f"a login from {origin} is refused", fmt)
        if fmt == "html":
            given = fields.get("csrf", "")
            expected = request.cookies.get(LOGIN_COOKIE, "")
            if not expected or not secrets.compare_digest(given.encode(), expected.encode()):
                return self.login_page(request, CSRF_REFUSED, 403)
        old = request.cookies.get(SESSION_COOKIE)
        if old:
            self.review.team.logout(old)  # whatever session came along is never reused
        address = request.client.host if request.client else "unknown"
        name = fields.get("name", "")
        try:
            session = self.review.team.login(name, fields.get("password", ""), address=address)
        except LoginRateLimited as exc:
            return self._refused_login(request, fmt, str(exc), 429)
        except ReviewError as exc:
            return self._refused_login(request, fmt, str(exc), 401)
        response: Response
        if fmt == "json":
            response = JSONResponse({"user": session.user.name, "csrf": session.csrf_token})
        else:
            response = RedirectResponse("/", status_code=303)
            response.delete_cookie(LOGIN_COOKIE)
        self.set_session_cookie(request, response, session.token)
        return response

    def _refused_login(self, request: Request, fmt: Format, message: str, status: int) -> Response:
        if fmt == "json":
            return JSONResponse({"error": message, "status": status}, status_code=status)
        return self.login_page(request, message, status)

    def login_page(
        self, request: Request, message: str | None = None, status: int = 200
    ) -> Response:
        token = secrets.token_urlsafe(32)
        response = self.render(
            request, "login.html", {"message": message, "login_csrf": token}, status=status
        )
        response.set_cookie(
            LOGIN_COOKIE,
            token,
            max_age=3600,
            httponly=True,
            samesite="strict",
            secure=self.secure(request),
            path="/login",
        )
        return response


def own_origin(request: Request) -> str:
    url = request.url
    default = {"http": 80, "https": 443}.get(url.scheme)
    port = f":{url.port}" if url.port and url.port != default else ""
    return f"{url.scheme}://{url.hostname}{port}"


async def read_fields(request: Request) -> tuple[dict[str, str], bool]:
    """A POST's fields (a form's, or a JSON object's as text) and whether it was JSON."""
    if request.method != "POST":
        return {}, False
    length = request.headers.get("content-length")
    if length is not None and (not length.isdigit() or int(length) > BODY_LIMIT):
        raise WebError(413, f"a request body is at most {BODY_LIMIT // 1024} KB")
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind == "application/json":
        try:
            data = json.loads(await request.body() or b"{}")
        except ValueError:
            raise WebError(400, "the request body is not JSON") from None
        if not isinstance(data, dict):
            raise WebError(400, "the request body must be a JSON object")
        return {str(k): "" if v is None else str(v) for k, v in data.items()}, True
    if kind in ("application/x-www-form-urlencoded", "multipart/form-data", ""):
        form = await request.form()
        return {k: v for k, v in form.items() if isinstance(v, str)}, False
    raise WebError(415, f"a request body of type {kind!r} is not understood; send a form or JSON")


def make_app(review: Review, *, loopback: bool = True) -> Starlette:
    """The ASGI app of the screening pages over an open review."""
    return Web(review, loopback=loopback).app()
