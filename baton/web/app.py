"""The dashboard's app factory, and how errors become answers (JSON under /api, pages elsewhere).

Status codes: 400 bad input (nothing changed), 401 not logged in, 403 cross-site or no CSRF
token, 404 unknown application or deploy, 409 another deploy of the application is running,
422 a request that does not match the API's schema, 502 a load balancer or server refused
before anything changed.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Mapping
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request, status
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException

from baton._exceptions import (
    BatonError,
    InputError,
    LoadBalancerError,
    LockError,
    UnreachableError,
)
from baton.config import Manifest
from baton.execution import Drivers
from baton.web import api, pages, profile_pages, webhook
from baton.web.auth import Credentials
from baton.web.dashboard import Dashboard, NotFound, NotRunning
from baton.web.security import HeadAsGet, SecurityHeaders
from baton.web.templating import error_page, login_page


def create_app(
    store_dir: Path | str,
    manifests: Iterable[Manifest | Path | str],
    drivers: Drivers | None = None,
    *,
    credentials: Credentials | None = None,
) -> FastAPI:
    """The dashboard for ``manifests``, on the state in ``store_dir``.

    ``drivers`` defaults to the real ones; tests pass fakes. ``app.state.credentials`` holds
    the one-time login token and the API token that ``baton serve`` prints.
    """
    dashboard = Dashboard.open(store_dir, manifests, drivers)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        await dashboard.pending.stop()
        await dashboard.launcher.stop()
        dashboard.store.close()

    app = FastAPI(
        title="baton",
        summary="Deploy, deploy with options, and watch it happen.",
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
        lifespan=lifespan,
    )
    app.state.dashboard = dashboard
    app.state.credentials = credentials or Credentials()
    app.include_router(pages.public)
    app.include_router(pages.router)
    app.include_router(api.router)
    app.include_router(webhook.router)
    app.include_router(profile_pages.router)
    api.name_applications(app, list(dashboard.manifests))
    add_error_handlers(app)
    app.add_middleware(HeadAsGet)
    app.add_middleware(SecurityHeaders)
    return app


def status_for(error: BatonError) -> int:
    if isinstance(error, NotFound):
        return status.HTTP_404_NOT_FOUND
    if isinstance(error, NotRunning):
        return status.HTTP_409_CONFLICT
    if isinstance(error, InputError):
        return status.HTTP_400_BAD_REQUEST
    if isinstance(error, LockError):
        return status.HTTP_409_CONFLICT
    if isinstance(error, LoadBalancerError | UnreachableError):
        return status.HTTP_502_BAD_GATEWAY
    return status.HTTP_500_INTERNAL_SERVER_ERROR


def add_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(BatonError)
    async def baton_error(request: Request, error: BatonError) -> Response:
        extra: dict[str, Any] = {}
        if isinstance(error, LockError):
            extra["holder"] = _holder(request)
        return _answer(request, status_for(error), str(error), extra)

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, error: HTTPException) -> Response:
        return _answer(request, error.status_code, str(error.detail), {}, error.headers)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, error: RequestValidationError) -> Response:
        problems = [_problem(e) for e in error.errors()]
        extra = {"errors": problems}
        return _answer(request, 422, "; ".join(problems), extra)


def _answer(
    request: Request,
    code: int,
    message: str,
    extra: dict[str, Any],
    more_headers: Mapping[str, str] | None = None,
) -> Response:
    """The error as JSON (a :class:`Problem`) under /api, else as a page; 405 keeps ``Allow``."""
    headers = dict(more_headers or {})
    if code == status.HTTP_401_UNAUTHORIZED:
        headers["WWW-Authenticate"] = "Bearer"
    if request.url.path.startswith(("/api", "/hooks")):
        return JSONResponse({"detail": message, **extra}, status_code=code, headers=headers)
    if code == status.HTTP_401_UNAUTHORIZED:
        response = login_page(request, message, code)
    else:
        response = error_page(request, code, message)
    if headers:
        response.headers.update(headers)
    return response


def _problem(error: Any) -> str:
    where = ".".join(str(part) for part in error.get("loc", ()) if part != "body")
    return f"{where}: {error.get('msg', 'invalid')}"


def _holder(request: Request) -> dict[str, Any] | None:
    application = request.path_params.get("application")
    dashboard: Dashboard = request.app.state.dashboard
    holder = dashboard.store.lock_holder(application) if application else None
    return None if holder is None else {**vars(holder), "description": holder.describe()}
