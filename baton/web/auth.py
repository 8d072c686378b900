"""Who may use the dashboard, and protection against cross-site requests.

``baton serve`` prints a one-time login link; opening it trades the token for a session cookie
(HttpOnly, SameSite=Strict). Scripts and CI call ``/api`` with ``Authorization: Bearer <api
token>`` instead. A state-changing request made with the session cookie must also carry the
session's CSRF token (form field ``csrf_token`` or header ``X-CSRF-Token``) and must not come
from another origin.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field

from fastapi import HTTPException, Request, status

SESSION_COOKIE = "baton_session"
CSRF_HEADER = "x-csrf-token"
CSRF_FIELD = "csrf_token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
LOGIN_HINT = "log in with the one-time link `baton serve` printed, or send a bearer token to /api"


@dataclass(frozen=True)
class Session:
    """A logged-in browser: its cookie value and the CSRF token its pages embed."""

    id: str
    csrf: str


@dataclass
class Credentials:
    """The login token (usable once), the API token and the sessions opened so far."""

    login_token: str = field(default_factory=lambda: secrets.token_urlsafe(24))
    api_token: str = field(default_factory=lambda: secrets.token_urlsafe(24))
    login_used: bool = False
    sessions: dict[str, Session] = field(default_factory=dict)

    def log_in(self, token: str) -> Session | None:
        """Trade the login token for a new session; None if it is wrong or already used."""
        if self.login_used or not secrets.compare_digest(token, self.login_token):
            return None
        self.login_used = True
        session = Session(secrets.token_urlsafe(32), secrets.token_urlsafe(32))
        self.sessions[session.id] = session
        return session

    def session(self, cookie: str | None) -> Session | None:
        return self.sessions.get(cookie or "")

    def is_api_token(self, header: str | None) -> bool:
        scheme, _, token = (header or "").partition(" ")
        return scheme.lower() == "bearer" and secrets.compare_digest(token, self.api_token)


def credentials_of(request: Request) -> Credentials:
    credentials: Credentials = request.app.state.credentials
    return credentials


async def require_session(request: Request) -> Session:
    """Dependency for pages: a session cookie, plus CSRF and origin checks when changing."""
    session = credentials_of(request).session(request.cookies.get(SESSION_COOKIE))
    if session is None:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, f"not logged in: {LOGIN_HINT}")
    if request.method not in SAFE_METHODS:
        check_same_origin(request)
        await check_csrf(request, session)
    return session


async def require_api(request: Request) -> Session | None:
    """Dependency for ``/api``: the bearer token, or a browser session as for pages."""
    if credentials_of(request).is_api_token(request.headers.get("authorization")):
        return None
    return await require_session(request)


def check_same_origin(request: Request) -> None:
    """Refuse requests a browser says come from another site."""
    if request.headers.get("sec-fetch-site", "same-origin") not in {"same-origin", "none"}:
        raise _forbidden("cross-site request refused")
    origin = request.headers.get("origin")
    if origin is not None and origin != _own_origin(request):
        raise _forbidden(f"cross-site request refused (origin {origin})")


async def check_csrf(request: Request, session: Session) -> None:
    sent = request.headers.get(CSRF_HEADER)
    if sent is None and _is_form(request):
        value = (await request.form()).get(CSRF_FIELD)
        sent = value if isinstance(value, str) else None
    if sent is None or not secrets.compare_digest(sent, session.csrf):
        raise _forbidden("missing or wrong CSRF token: reload the page and try again")


def _own_origin(request: Request) -> str:
    host = request.headers.get("host", "")
    return f"{request.url.scheme}://{host}"


def _is_form(request: Request) -> bool:
    kind = request.headers.get("content-type", "")
    return kind.startswith(("application/x-www-form-urlencoded", "multipart/form-data"))


def _forbidden(message: str) -> HTTPException:
    return HTTPException(status.HTTP_403_FORBIDDEN, message)
