"""Server-rendered pages. Forms post here; live parts read the API with a few lines of JS."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, HTTPException, Query, Request, status
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response

from baton._exceptions import InputError
from baton.web import guidance, timeline_view, views
from baton.web.api import DashboardDep, DeployId
from baton.web.auth import (
    SESSION_COOKIE,
    Session,
    check_same_origin,
    credentials_of,
    require_session,
)
from baton.web.options_form import OptionsFormDep
from baton.web.templating import STATIC_DIR, login_page, render

SessionDep = Annotated[Session, Depends(require_session)]
STATIC_TYPES = {".css": "text/css", ".js": "text/javascript"}

public = APIRouter(include_in_schema=False)
router = APIRouter(include_in_schema=False, dependencies=[Depends(require_session)])


@public.get("/login", response_class=HTMLResponse)
async def log_in_page(request: Request, token: str = "") -> Response:
    """The one-time link (``?token=``), or without a token the form to paste the API token in."""
    if not token:
        return login_page(request)
    return _start_session(
        request, token, "this login link is wrong or was already used: paste the API token below"
    )


@public.post("/login")
async def log_in(request: Request, token: Annotated[str, Form()] = "") -> Response:
    check_same_origin(request)
    return _start_session(request, token, "wrong token: paste the API token `baton serve` printed")


def _start_session(request: Request, token: str, refusal: str) -> Response:
    credentials = credentials_of(request)
    session = credentials.log_in(token)
    if session is None:
        return login_page(request, refusal, status.HTTP_401_UNAUTHORIZED)
    response = RedirectResponse("/", status.HTTP_303_SEE_OTHER)
    response.set_cookie(
        SESSION_COOKIE,
        session.id,
        max_age=int(credentials.session_seconds),
        httponly=True,
        samesite="strict",
        secure=request.url.is_secure,
    )
    return response


@router.post("/logout")
async def log_out(request: Request) -> Response:
    credentials_of(request).log_out(request.cookies.get(SESSION_COOKIE))
    response = RedirectResponse("/login", status.HTTP_303_SEE_OTHER)
    response.delete_cookie(SESSION_COOKIE, httponly=True, samesite="strict")
    return response


@public.get("/static/{name}")
async def static(name: str) -> FileResponse:
    path = STATIC_DIR / Path(name).name
    if path.suffix not in STATIC_TYPES or not path.is_file():
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no static file {name!r}")
    return FileResponse(path, media_type=STATIC_TYPES[path.suffix])


@router.get("/", response_class=HTMLResponse)
async def applications(request: Request, session: SessionDep, dashboard: DashboardDep) -> Response:
    apps = [await views.application(dashboard, m) for m in dashboard.manifests.values()]
    return render(request, session, "apps.html", apps=apps, title="Applications")


@router.get("/apps/{application}", response_class=HTMLResponse)
async def application(
    application: str, request: Request, session: SessionDep, dashboard: DashboardDep
) -> Response:
    app = await views.application_detail(dashboard, dashboard.manifest(application))
    return render(request, session, "app.html", app=app, title=application)


@router.post("/apps/{application}/settings")
async def change_setting(
    application: str,
    dashboard: DashboardDep,
    key: Annotated[str, Form()],
    value: Annotated[str, Form()],
) -> Response:
    dashboard.set_setting(application, key, value)
    return RedirectResponse(f"/apps/{application}", status.HTTP_303_SEE_OTHER)


@router.post("/apps/{application}/recover", response_class=HTMLResponse)
async def recover(
    application: str, request: Request, session: SessionDep, dashboard: DashboardDep
) -> Response:
    """``baton recover`` from the page; the page comes back with the result at the top."""
    outcomes = guidance.recovered(await dashboard.recover(application))
    app = await views.application_detail(dashboard, dashboard.manifest(application))
    return render(request, session, "app.html", app=app, recovered=outcomes, title=application)


@router.post("/apps/{application}/deploy")
async def deploy(application: str, dashboard: DashboardDep, form: OptionsFormDep) -> Response:
    options = dashboard.only_changes(application, form.options())
    deploy_id = await dashboard.deploy(application, options)
    return RedirectResponse(f"/deploys/{deploy_id}", status.HTTP_303_SEE_OTHER)


@router.post("/deploys/{deploy_id}/cancel")
async def cancel(deploy_id: DeployId, dashboard: DashboardDep) -> Response:
    dashboard.cancel(deploy_id)
    return RedirectResponse(f"/deploys/{deploy_id}", status.HTTP_303_SEE_OTHER)


@router.get("/deploys/{deploy_id}", response_class=HTMLResponse)
async def live(
    deploy_id: DeployId, request: Request, session: SessionDep, dashboard: DashboardDep
) -> Response:
    record = dashboard.deploy_record(deploy_id)
    servers = [_live_row(name, record.plan) for name in record.plan.get("servers", [])]
    return render(
        request,
        session,
        "live.html",
        deploy=views.deploy_row(record),
        servers=servers,
        plan=record.plan,
        picture=timeline_view.picture(views.deploy_timeline(dashboard.store, record)),
        title=f"Deploy #{deploy_id}",
    )


@router.get("/deploys/{deploy_id}/timeline", response_class=HTMLResponse)
async def timeline(
    deploy_id: int, request: Request, session: SessionDep, dashboard: DashboardDep
) -> Response:
    """The timeline's figures and picture alone: the live page fetches it as events arrive."""
    record = dashboard.deploy_record(deploy_id)
    picture = timeline_view.picture(views.deploy_timeline(dashboard.store, record))
    response = render(request, session, "_timeline.html", picture=picture)
    response.headers["Cache-Control"] = "no-store"
    return response


def _live_row(name: str, plan: dict[str, Any]) -> dict[str, Any]:
    actions: list[str] = [
        action
        for wave in plan.get("waves", [])
        for s in wave
        if s["server"] == name
        for action in s["actions"]
    ]
    steps = [a for a in actions if a.startswith("step ")]
    serial = any(a.startswith("remove from") for a in actions)
    return {"name": name, "steps": len(steps), "rotation": "in rotation" if serial else "untouched"}


@router.get("/deploys/{deploy_id}/detail", response_class=HTMLResponse)
async def detail(
    deploy_id: DeployId, request: Request, session: SessionDep, dashboard: DashboardDep
) -> Response:
    record = dashboard.deploy_record(deploy_id)
    deploy = views.deploy_detail(dashboard.store, record)
    picture = timeline_view.picture(views.deploy_timeline(dashboard.store, record))
    return render(
        request,
        session,
        "detail.html",
        deploy=deploy,
        picture=picture,
        title=f"Deploy #{deploy_id}",
    )


@router.get("/history", response_class=HTMLResponse)
async def history(
    request: Request,
    session: SessionDep,
    dashboard: DashboardDep,
    application: str = "",
    wanted: Annotated[str, Query(alias="status")] = "",
    page: Annotated[int, Query(ge=1, le=1_000_000)] = 1,
) -> Response:
    if application:
        dashboard.manifest(application)
    if wanted and wanted not in views.DEPLOY_STATUSES:
        known = ", ".join(views.DEPLOY_STATUSES)
        raise InputError(f"status {wanted!r}: expected one of {known}")
    listing = views.history_page(dashboard.store, application or None, wanted or None, page)
    return render(
        request,
        session,
        "history.html",
        **listing,
        application=application,
        status=wanted,
        applications=list(dashboard.manifests),
        statuses=views.DEPLOY_STATUSES,
        title="History",
    )
