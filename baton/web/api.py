"""The JSON API under ``/api``: everything the pages do, for CI systems and scripts.

Authenticate with ``Authorization: Bearer <api token>`` (printed by ``baton serve``), or with
the browser session plus an ``X-CSRF-Token`` header.
"""

from __future__ import annotations

import importlib.util
import pathlib
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, FastAPI, Header, HTTPException, Path, Query, Request, status
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, StreamingResponse
from pydantic import BaseModel, ConfigDict, Field, WithJsonSchema

from baton.config.model import VERSION_PATTERN
from baton.planning import plan_to_dict
from baton.settings import BOOLEAN_WORDS, SPECS
from baton.web import guidance, views
from baton.web.auth import require_api
from baton.web.dashboard import Dashboard, deploy_options
from baton.web.problems import problems
from baton.web.stream import event_json, follow
from baton.web.templating import render

Json = dict[str, Any]
MAX_ID = 2**63 - 1
"""SQLite's largest integer: a larger id or sequence number is refused (422), never looked up."""

DeployId = Annotated[int, Path(ge=1, le=MAX_ID, description="a deploy's number")]
After = Annotated[
    int, Query(ge=0, le=MAX_ID, description="only events with a larger sequence number")
]
LastEventId = Annotated[
    str | None,
    Header(pattern=r"^[0-9]{1,18}$", description="sent by a reconnecting browser; wins over after"),
    WithJsonSchema({"type": "string", "pattern": r"^[0-9]{1,18}$"}),
]
SettingKey = Annotated[
    str,
    Path(description="one of the settings `baton settings list` shows"),
    WithJsonSchema({"type": "string", "enum": list(SPECS)}),
]
VERSION_SCHEMA = {"type": "string", "pattern": f"^$|{VERSION_PATTERN.pattern}"}
"""A release version, or blank for the default (a UTC timestamp), as the form sends it."""
Version = Annotated[
    str | None,
    Field(description="default: a UTC timestamp"),
    WithJsonSchema({"anyOf": [VERSION_SCHEMA, {"type": "null"}]}),
]


_BATCH_SIZE = r"(0*(100|[1-9][0-9]?)%|0*[1-9][0-9]{0,3})"
"""A count from 1, or a percentage from 1% to 100%, as :func:`baton.settings.parse_ramp` takes."""
BATCH_SCHEMA = {
    "type": "string",
    "pattern": rf"^ *({_BATCH_SIZE}( *, *{_BATCH_SIZE}){{0,19}})? *$",
}
"""A batch size or ramp (blank: the setting, as the form sends it). What it cannot say is
checked on use (400): that a ramp increases, and that batches are serial."""
Batch = Annotated[
    str | None,
    Field(description="2, 25% or a ramp 1,25%,50% (serial); default: deploy.batch_size"),
    WithJsonSchema({"anyOf": [BATCH_SCHEMA, {"type": "null"}]}),
]


DEPLOY_LINKS = {
    name: {
        "operationId": operation,
        "parameters": {"deploy_id": "$response.body#/deploy_id"},
        "description": description,
    }
    for name, operation, description in [
        ("show", "show_deploy", "the deploy: per server, per step"),
        ("events", "list_events", "its events so far"),
        ("stream", "stream_events", "its events as they happen"),
        ("cancel", "cancel_deploy", "interrupt it"),
    ]
}


def get_dashboard(request: Request) -> Dashboard:
    dashboard: Dashboard = request.app.state.dashboard
    return dashboard


DashboardDep = Annotated[Dashboard, Depends(get_dashboard)]
router = APIRouter(
    prefix="/api",
    dependencies=[Depends(require_api)],
    generate_unique_id_function=lambda route: route.name,
)


class SettingChange(BaseModel):
    model_config = ConfigDict(extra="forbid")
    value: Annotated[
        str,
        Field(
            description=f"as the CLI takes: {BOOLEAN_WORDS} for a switch, a whole number for "
            "a count; a value the key does not take is 400 (the schema cannot tie it to the "
            "key), and no key takes a blank one"
        ),
        WithJsonSchema({"type": "string", "pattern": r"\S"}),
    ]


class DeployRequest(BaseModel):
    """One-off options; a missing or null field means "use the application's setting".

    Each field is the JSON type the schema says: ``"run_migrations": 0`` is refused (422),
    never read as false."""

    model_config = ConfigDict(extra="forbid", strict=True)
    version: Version = None
    strategy: Literal["serial", "parallel"] | None = None
    run_migrations: bool | None = None
    batch: Batch = None


class DeployLinks(BaseModel):
    """A deploy that was started, and where to follow it."""

    deploy_id: int
    url: str = Field(description="the deploy: per server, per step, output")
    events_url: str = Field(description="its events after a sequence number")
    stream_url: str = Field(description="its events as server-sent events, until it ends")
    page_url: str = Field(description="its live page in the dashboard")

    @classmethod
    def of(cls, deploy_id: int) -> DeployLinks:
        return cls(
            deploy_id=deploy_id,
            url=f"/api/deploys/{deploy_id}",
            events_url=f"/api/deploys/{deploy_id}/events",
            stream_url=f"/api/deploys/{deploy_id}/stream",
            page_url=f"/deploys/{deploy_id}",
        )


class Cancelling(DeployLinks):
    cancelling: bool = Field(description="true: it is being interrupted, as Ctrl-C does")


@router.get(
    "/apps", summary="Applications, their servers, versions and rotation", responses=problems()
)
async def list_apps(dashboard: DashboardDep) -> list[Json]:
    return [await views.application(dashboard, m) for m in dashboard.manifests.values()]


@router.get(
    "/apps/{application}",
    summary="Settings, values in force, recent deploys",
    responses=problems(404),
)
async def show_app(application: str, dashboard: DashboardDep) -> Json:
    return await views.application_detail(dashboard, dashboard.manifest(application))


@router.get(
    "/apps/{application}/settings",
    summary="Every setting: value, default, meaning",
    responses=problems(404),
)
async def list_settings(application: str, dashboard: DashboardDep) -> list[Json]:
    dashboard.manifest(application)
    return views.settings(dashboard.store, application)


@router.put(
    "/apps/{application}/settings/{key}", summary="Change one setting", responses=problems(400, 404)
)
async def change_setting(
    application: str, key: SettingKey, change: SettingChange, dashboard: DashboardDep
) -> Json:
    key, value = dashboard.set_setting(application, key, change.value)
    return {"application": application, "key": key, "value": value}


@router.get(
    "/apps/{application}/plan",
    summary="What a deploy would do now (with warnings)",
    responses=problems(400, 404),
)
async def show_plan(
    application: str,
    dashboard: DashboardDep,
    version: Annotated[str | None, Query(), WithJsonSchema(VERSION_SCHEMA)] = None,
    strategy: Literal["serial", "parallel"] | None = None,
    run_migrations: bool | None = None,
    batch: Annotated[str | None, Query(), WithJsonSchema(BATCH_SCHEMA)] = None,
) -> Json:
    options = deploy_options(version, strategy, run_migrations, batch)
    return plan_to_dict(dashboard.plan(application, options))


@router.post(
    "/apps/{application}/deploys",
    status_code=status.HTTP_202_ACCEPTED,
    summary="Start a deploy; 409 with the lock holder if one is running",
    responses={**problems(400, 404, 409, 502), 202: {"links": DEPLOY_LINKS}},
)
async def start_deploy(
    application: str, request: DeployRequest, dashboard: DashboardDep
) -> DeployLinks:
    options = deploy_options(
        request.version, request.strategy, request.run_migrations, request.batch
    )
    deploy_id = await dashboard.deploy(application, options)
    return DeployLinks.of(deploy_id)


@router.post(
    "/apps/{application}/recover",
    summary="What `baton recover` does: put back servers an unfinished deploy left out",
    responses=problems(404, 409, 502),
)
async def recover(application: str, dashboard: DashboardDep) -> list[Json]:
    return guidance.recovered(await dashboard.recover(application))


@router.post(
    "/deploys/{deploy_id}/cancel",
    status_code=status.HTTP_202_ACCEPTED,
    summary="Interrupt a running deploy, as Ctrl-C does; 409 if it is not running here",
    responses=problems(404, 409),
)
async def cancel_deploy(deploy_id: DeployId, dashboard: DashboardDep) -> Cancelling:
    dashboard.cancel(deploy_id)
    return Cancelling(**DeployLinks.of(deploy_id).model_dump(), cancelling=True)


@router.get("/deploys", summary="History, newest first", responses=problems(404))
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
    return views.deploy_rows(dashboard.store, records)


@router.get(
    "/deploys/{deploy_id}",
    summary="One deploy: per server, per step, output",
    responses=problems(404),
)
async def show_deploy(deploy_id: DeployId, dashboard: DashboardDep) -> Json:
    return views.deploy_detail(dashboard.store, dashboard.deploy_record(deploy_id))


@router.get(
    "/deploys/{deploy_id}/timeline",
    summary="Per server: spans out of rotation, steps, waits",
    responses=problems(404),
)
async def show_timeline(deploy_id: DeployId, dashboard: DashboardDep) -> Json:
    record = dashboard.deploy_record(deploy_id)
    return views.deploy_timeline(dashboard.store, record).to_dict()


@router.get(
    "/deploys/{deploy_id}/events",
    summary="Events after a sequence number (polling)",
    responses=problems(404),
)
async def list_events(deploy_id: DeployId, dashboard: DashboardDep, after: After = 0) -> Json:
    record = dashboard.deploy_record(deploy_id)
    events = [event_json(e) for e in dashboard.store.events(deploy_id, after)]
    return {"deploy_id": deploy_id, "status": record.status, "events": events}


@router.get(
    "/deploys/{deploy_id}/stream",
    summary="Events as server-sent events, until the deploy ends",
    response_class=StreamingResponse,
    responses={**problems(404), 200: {"content": {"text/event-stream": {}}}},
)
async def stream_events(
    deploy_id: DeployId,
    request: Request,
    dashboard: DashboardDep,
    after: After = 0,
    last_event_id: LastEventId = None,
) -> StreamingResponse:
    dashboard.deploy_record(deploy_id)
    start = int(last_event_id) if last_event_id is not None else after
    return StreamingResponse(
        follow(dashboard.store, deploy_id, start, request.is_disconnected),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )


def name_applications(app: FastAPI, names: list[str]) -> None:
    """Publish the applications this server knows as the ``application`` parameters' enum,
    so a client (or a schema-driven test) sees which names exist; others still get 404."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = generate()
            for path in schema["paths"].values():
                for operation in path.values():
                    for parameter in operation.get("parameters", []):
                        if parameter["name"] == "application":
                            parameter["schema"] = {"type": "string", "enum": names}
        return app.openapi_schema or generate()

    app.openapi = openapi  # type: ignore[method-assign]


@router.get("/openapi.json", include_in_schema=False)
async def openapi(request: Request) -> JSONResponse:
    return JSONResponse(request.app.openapi())


@router.get("/docs", include_in_schema=False)
async def docs(request: Request) -> HTMLResponse:
    """Swagger UI from files installed with baton: the page works with no internet, and its
    start-up script is a file (/static/docs.js), as the Content-Security-Policy requires."""
    return render(request, None, "docs.html")


@router.get("/docs/assets/{name}", include_in_schema=False)
async def docs_asset(name: str) -> FileResponse:
    if name not in SWAGGER_ASSETS:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no docs asset {name!r}")
    return FileResponse(_swagger_static() / name)


SWAGGER_ASSETS = frozenset({"swagger-ui-bundle.js", "swagger-ui.css", "favicon-32x32.png"})


def _swagger_static() -> pathlib.Path:
    """Swagger UI 5 (it reads OpenAPI 3.1, which FastAPI publishes), as installed with baton
    by ``swagger-ui-py``; found without importing that package's own web-framework glue."""
    spec = importlib.util.find_spec("swagger_ui")
    if spec is None or not spec.submodule_search_locations:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "Swagger UI is not installed")
    return pathlib.Path(next(iter(spec.submodule_search_locations))) / "static"
