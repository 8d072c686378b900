"""Jinja2 templates, the filters they use, and rendering a page or an error page."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from baton.web.auth import Session

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
    return render(
        request,
        None,
        "error.html",
        status_code=status_code,
        status=status_code,
        message=message,
        title=f"Error {status_code}",
    )
