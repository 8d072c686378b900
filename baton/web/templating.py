"""Jinja2 templates, the filters they use, and rendering a page or an error page."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from baton.web.auth import SESSION_COOKIE, Session, credentials_of

HERE = Path(__file__).parent
STATIC_DIR = HERE / "static"
templates = Jinja2Templates(directory=HERE / "templates")


def when(stamp: float | None) -> str:
    if stamp is None:
        return "-"
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(stamp))


def seconds(value: float | None) -> str:
    if value is None:
        return "running"
    return f"{value:.1f}s"


def in_words(origin: str) -> str:
    """Where a plan's choice came from, for a person: the plan's origin names CLI flags
    (``--serial (this deploy only)``), which mean nothing in a browser."""
    if origin.endswith("(this deploy only)"):
        return "chosen for this deploy only"
    if origin.startswith("setting "):
        return f"from the setting {origin.removeprefix('setting ')}"
    return origin


templates.env.filters["in_words"] = in_words
templates.env.filters["when"] = when
templates.env.filters["seconds"] = seconds


def render(
    request: Request, session: Session | None, name: str, status_code: int = 200, **context: Any
) -> HTMLResponse:
    """A page; forms in it carry the session's CSRF token."""
    return templates.TemplateResponse(
        request,
        name,
        {"csrf_token": session.csrf if session else "", **context},
        status_code=status_code,
    )


def error_page(request: Request, status_code: int, message: str) -> HTMLResponse:
    """An error page; a logged-in user keeps the navigation and the logout button."""
    session = credentials_of(request).session(request.cookies.get(SESSION_COOKIE))
    return render(
        request,
        session,
        "error.html",
        status_code=status_code,
        status=status_code,
        message=message,
        title=f"Error {status_code}",
    )


def login_page(request: Request, message: str = "", status_code: int = 200) -> HTMLResponse:
    """The login form (paste the API token), with why the user is here when there is a why."""
    return render(
        request, None, "login.html", status_code=status_code, message=message, title="Log in"
    )
