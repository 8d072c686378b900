"""The JSON API under ``/api``: everything the pages do, for CI systems and scripts.

Authenticate with ``Authorization: Bearer <api token>`` (printed by ``baton serve``), or with
the browser session plus an ``X-CSRF-Token`` header.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal

import swagger_ui_bundle  # type: ignore[import-untyped]
from fastapi import APIRouter, Depends, Header, HTTPException, Query, Request, status
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, StreamingResponse
from pydantic import BaseModel, ConfigDict, Field

from baton.planning import plan_to_dict
from baton.web import guidance, views
from baton.web.auth import require_api
from baton.web.dashboard import Dashboard, deploy_options
from baton.web.stream import event_json, follow

Json = dict[str, Any]


def get_dashboard(request: Request) -> Dashboard:
    dashboard: Dashboard = request.app.state.dashboard
    return dashboard


DashboardDep = Annotated[Dashboard, Depends(get_dashboard)]
router = APIRouter(prefix="/api", dependencies=[Depends(require_api)])


class SettingChange(BaseModel):
    model_config = ConfigDict(extra="forbid")
    value: str = Field(description="true/false, 1/0, on/off, … or a number, as the CLI takes")


class DeployRequest(BaseModel):
    """One-off options; a missing or null field means "use the application's setting"."""

    model_config = ConfigDict(extra="forbid")
    version: str | None = Field(default=None, description="default: a UTC timestamp")
    strategy: Literal["serial", "parallel"] | None = None
    run_migrations: bool | None = None


@router.get("/apps", summary="Applications, their servers, versions and rotation")
async def list_apps(dashboard: DashboardDep) -> list[Json]:
    return [await views.application(dashboard, m) for m in dashboard.manifests.values()]


@router.get("/apps/{application}", summary="Settings, values in force, recent deploys")
async def show_app(application: str, dashboard: DashboardDep) -> Json:
    return await views.application_detail(dashboard, dashboard.manifest(application))


@router.get("/apps/{application}/settings", summary="Every setting: value, default, meaning")
async def list_settings(application: str, dashboard: DashboardDep) -> list[Json]:
    dashboard.manifest(application)
    return views.settings(dashboard.store, application)


@router.put("/apps/{application}/settings/{key}", summary="Change one setting")
async def change_setting(
    application: str, key: str, change: SettingChange, dashboard: DashboardDep
) -> Json:
    key, value = dashboard.set_setting(application, key, change.value)
    return {"application": application, "key": key, "value": value}


@router.get("/apps/{application}/plan", summary="What a deploy would do now (with warnings)")
async def show_plan(
    application: str,
    dashboard: DashboardDep,
    version: str | None = None,
    strategy: Literal["serial", "parallel"] | None = None,
    run_migrations: bool | None = None,
) -> Json:
    options = deploy_options(version, strategy, run_migrations)
    return plan_to_dict(dashboard.plan(application, options))


@router.post(
    "/apps/{application}/deploys",
    status_code=status.HTTP_202_ACCEPTED,
    summary="Start a deploy; 409 with the lock holder if one is running",
)
async def start_deploy(application: str, request: DeployRequest, dashboard: DashboardDep) -> Json:
    options = deploy_options(request.version, request.strategy, request.run_migrations)
    deploy_id = await dashboard.deploy(application, options)
    return {"deploy_id": deploy_id, **deploy_links(deploy_id)}


@router.post(
    "/apps/{application}/recover",
    summary="What `baton recover` does: put back servers an unfinished deploy left out",
)
async def recover(application: str, dashboard: DashboardDep) -> list[Json]:
    return guidance.recovered(await dashboard.recover(application))


@router.post(
    "/deploys/{deploy_id}/cancel",
    status_code=status.HTTP_202_ACCEPTED,
    summary="Interrupt a running deploy, as Ctrl-C does; 409 if it is not running here",
)
async def cancel_deploy(deploy_id: int, dashboard: DashboardDep) -> Json:
    dashboard.cancel(deploy_id)
    return {"deploy_id": deploy_id, "cancelling": True, **deploy_links(deploy_id)}


def deploy_links(deploy_id: int) -> dict[str, str]:
    return {
        "url": f"/api/deploys/{deploy_id}",
        "events_url": f"/api/deploys/{deploy_id}/events",
        "stream_url": f"/api/deploys/{deploy_id}/stream",
        "page_url": f"/deploys/{deploy_id}",
    }


@router.get("/deploys", summary="History, newest first")
async def list_deploys(
    dashboard: DashboardDep,
    application: str | None = None,
    status: Literal["running", "succeeded", "failed", "cancelled", "abandoned"] | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 20,
    offset: Annotated[int, Query(ge=0, le=10**9)] = 0,
) -> list[Json]:
    if application is not None:
        dashboard.manifest(application)
    records = dashboard.store.deploys(application, limit, status=status, offset=offset)
    return [views.deploy_row(r) for r in records]


@router.get("/deploys/{deploy_id}", summary="One deploy: per server, per step, output")
async def show_deploy(deploy_id: int, dashboard: DashboardDep) -> Json:
    return views.deploy_detail(dashboard.store, dashboard.deploy_record(deploy_id))


@router.get(
    "/deploys/{deploy_id}/timeline", summary="Per server: spans out of rotation, steps, waits"
)
async def show_timeline(deploy_id: int, dashboard: DashboardDep) -> Json:
    record = dashboard.deploy_record(deploy_id)
    return views.deploy_timeline(dashboard.store, record).to_dict()


@router.get("/deploys/{deploy_id}/events", summary="Events after a sequence number (polling)")
async def list_events(deploy_id: int, dashboard: DashboardDep, after: int = 0) -> Json:
    record = dashboard.deploy_record(deploy_id)
    events = [event_json(e) for e in dashboard.store.events(deploy_id, after)]
    return {"deploy_id": deploy_id, "status": record.status, "events": events}


@router.get(
    "/deploys/{deploy_id}/stream",
    summary="Events as server-sent events, until the deploy ends",
    response_class=StreamingResponse,
)
async def stream_events(
    deploy_id: int,
    request: Request,
    dashboard: DashboardDep,
    after: int = 0,
    last_event_id: Annotated[int | None, Header()] = None,
) -> StreamingResponse:
    dashboard.deploy_record(deploy_id)
    start = last_event_id if last_event_id is not None else after
    return StreamingResponse(
        follow(dashboard.store, deploy_id, start, request.is_disconnected),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )


@router.get("/openapi.json", include_in_schema=False)
async def openapi(request: Request) -> JSONResponse:
    return JSONResponse(request.app.openapi())


@router.get("/docs", include_in_schema=False)
async def docs() -> HTMLResponse:
    """Swagger UI from files installed with baton: the page works with no internet."""
    return get_swagger_ui_html(
        openapi_url="/api/openapi.json",
        title="baton API",
        swagger_js_url="/api/docs/assets/swagger-ui-bundle.js",
        swagger_css_url="/api/docs/assets/swagger-ui.css",
        swagger_favicon_url="/api/docs/assets/favicon-32x32.png",
    )


@router.get("/docs/assets/{name}", include_in_schema=False)
async def docs_asset(name: str) -> FileResponse:
    if name not in SWAGGER_ASSETS:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no docs asset {name!r}")
    return FileResponse(Path(swagger_ui_bundle.swagger_ui_path) / name)


SWAGGER_ASSETS = frozenset({"swagger-ui-bundle.js", "swagger-ui.css", "favicon-32x32.png"})
