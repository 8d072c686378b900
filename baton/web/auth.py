"""Who may use the dashboard, and protection against cross-site requests.

``baton serve`` prints a one-time login link; opening it trades the token for a session cookie
(HttpOnly, SameSite=Strict). A user who lost or spent the link logs in again by pasting the
API token into the login page. Sessions expire (``session_seconds``, 12 hours unless ``baton
serve --session-hours`` says otherwise) and end at logout. Scripts and CI call ``/api`` with
``Authorization: Bearer <api token>`` instead. A state-changing request made with the session
cookie must also carry the session's CSRF token (form field ``csrf_token`` or header
``X-CSRF-Token``) and must not come from another origin.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from fastapi import HTTPException, Request, status

SESSION_COOKIE = "baton_session"
CSRF_HEADER = "x-csrf-token"
CSRF_FIELD = "csrf_token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
SESSION_HOURS = 12.0
LOGIN_HINT = (
    "log in with the one-time link `baton serve` printed or with its API token at /login, "
    "or send a bearer token to /api"
)


def same_secret(sent: str, expected: str) -> bool:
    """Constant-time comparison that any text a client sends can reach (non-ASCII too)."""
    return secrets.compare_digest(
        sent.encode("utf-8", "surrogatepass"), expected.encode("utf-8", "surrogatepass")
    )


@dataclass(frozen=True)
class Session:
    """A logged-in browser: its cookie value, the CSRF token its pages embed, when it ends."""

    id: str
    csrf: str
    expires_at: float


@dataclass
class Credentials:
    """The login token (usable once), the API token and the sessions open now.

    ``clock`` (seconds, ``time.time`` unless a test passes its own) decides when sessions end.
    """

    login_token: str = field(default_factory=lambda: secrets.token_urlsafe(24))
    api_token: str = field(default_factory=lambda: secrets.token_urlsafe(24))
    session_seconds: float = SESSION_HOURS * 3600
    clock: Callable[[], float] = time.time
    login_used: bool = False
    sessions: dict[str, Session] = field(default_factory=dict)

    def log_in(self, token: str) -> Session | None:
        """A new session for the unused login token or the API token; None for anything else."""
        if not self.login_used and same_secret(token, self.login_token):
            self.login_used = True
        elif not same_secret(token, self.api_token):
            return None
        now = self.clock()
        self.sessions = {k: v for k, v in self.sessions.items() if v.expires_at > now}
        session = Session(
            secrets.token_urlsafe(32),
            secrets.token_urlsafe(32),
            now + self.session_seconds,
        )
        self.sessions[session.id] = session
        return session

    def session(self, cookie: str | None) -> Session | None:
        """The session of ``cookie`` if it is open and has not expired."""
        session = self.sessions.get(cookie or "")
        if session is not None and session.expires_at <= self.clock():
            del self.sessions[session.id]
            return None
        return session

    def log_out(self, cookie: str | None) -> None:
        self.sessions.pop(cookie or "", None)

    def is_api_token(self, header: str | None) -> bool:
        scheme, _, token = (header or "").partition(" ")
        return scheme.lower() == "bearer" and same_secret(token, self.api_token)


def credentials_of(request: Request) -> Credentials:
    credentials: Credentials = request.app.state.credentials
    return credentials


async def require_session(request: Request) -> Session:
    """Dependency for pages: a session cookie, plus CSRF and origin checks when changing."""
    cookie = request.cookies.get(SESSION_COOKIE)
    session = credentials_of(request).session(cookie)
    if session is None:
        why = "your session ended (expired or logged out)" if cookie else "not logged in"
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, f"{why}: {LOGIN_HINT}")
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
    """Refuse requests a browser says come from another site.

    A browser's ``Sec-Fetch-Site`` is trusted first: under ``Referrer-Policy: no-referrer`` it
    sends ``Origin: null`` even for a form on our own page. Without it, ``Origin`` decides.
    """
    site = request.headers.get("sec-fetch-site")
    if site is not None:
        if site not in {"same-origin", "none"}:
            raise _forbidden("cross-site request refused")
        return
    origin = request.headers.get("origin")
    if origin is not None and origin != _own_origin(request):
        raise _forbidden(f"cross-site request refused (origin {origin})")


async def check_csrf(request: Request, session: Session) -> None:
    sent = request.headers.get(CSRF_HEADER)
    if sent is None and _is_form(request):
        value = (await request.form()).get(CSRF_FIELD)
        sent = value if isinstance(value, str) else None
    if sent is None or not same_secret(sent, session.csrf):
        raise _forbidden("missing or wrong CSRF token: reload the page and try again")


def _own_origin(request: Request) -> str:
    host = request.headers.get("host", "")
    return f"{request.url.scheme}://{host}"


def _is_form(request: Request) -> bool:
    kind = request.headers.get("content-type", "")
    return kind.startswith(("application/x-www-form-urlencoded", "multipart/form-data"))


def _forbidden(message: str) -> HTTPException:
    return HTTPException(status.HTTP_403_FORBIDDEN, message)
