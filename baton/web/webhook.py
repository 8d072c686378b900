"""The deploy webhook for CI: ``POST /hooks/deploy/{application}``, signed, never logged in.

Each request is signed with a secret ``baton serve`` reads from an environment variable or a
file (``--hook-secret-env``/``--hook-secret-file``), never from the manifest: what it must
carry, and why a captured one cannot be replayed, is in :mod:`baton.web.hook_signing`. The
body is empty or a JSON object; its optional ``version`` is what to deploy. While a deploy of
the application runs or starts, the request is queued (one per application, the newest by
arrival wins) and starts when the lock frees: :mod:`baton.web.pending`.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Header, Request, status
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from baton._exceptions import BatonError
from baton.planning import release_version
from baton.web.dashboard import Dashboard
from baton.web.hook_signing import (
    HUB_DELIVERY,
    HUB_SIGNATURE,
    TIMESTAMP,
    WINDOW,
    HookHeaders,
    HookSigning,
    Refused,
)
from baton.web.problems import Problem

MAX_BODY = 64 * 1024

router = APIRouter(prefix="/hooks", tags=["webhook"])


class HookAnswer(BaseModel):
    application: str
    version: str
    deploy_id: int | None = Field(description="the deploy started, or null when queued")
    queued: bool = Field(
        description="true: it starts when the running deploy ends, unless a newer request "
        "replaces it first"
    )
    replaced: str | None = Field(default=None, description="the queued version this replaced")


ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": Problem, "description": meaning}
    for code, meaning in {
        400: "the body is not a JSON object, or its version is not a valid version",
        401: f"unsigned, a wrong signature, or {TIMESTAMP} over {WINDOW}s from the server's "
        "clock: nothing deployed",
        404: "unknown application, or the webhook is off (no secret given to baton serve)",
        409: "this delivery id (or GitHub-signed body) was received before: nothing deployed",
        413: f"body over {MAX_BODY} bytes",
        422: "the request does not match this schema",
        502: "a load balancer or server refused before anything changed",
    }.items()
}
BODY: dict[str, Any] = {
    "requestBody": {
        "required": False,
        "content": {
            "application/json": {
                "schema": {
                    "type": "object",
                    "properties": {"version": {"type": "string", "maxLength": 128}},
                }
            }
        },
    }
}


@router.post(
    "/deploy/{application}",
    status_code=status.HTTP_202_ACCEPTED,
    summary="Deploy from CI, signed with HMAC-SHA256; queued while a deploy runs",
    response_model=HookAnswer,
    responses=ERRORS,
    openapi_extra=BODY,
)
async def deploy_hook(
    application: str,
    request: Request,
    x_baton_timestamp: Annotated[
        str | None, Header(description="seconds since the epoch, signed (date +%s)")
    ] = None,
    x_baton_delivery: Annotated[
        str | None, Header(description="a new id per request, signed (openssl rand -hex 16)")
    ] = None,
    x_baton_signature: Annotated[
        str | None,
        Header(
            description="sha256=<hex HMAC-SHA256 of POST, the path, the timestamp and the "
            "delivery id, one a line, then the raw body>"
        ),
    ] = None,
    x_hub_signature_256: Annotated[
        str | None,
        Header(description=f"GitHub's: sha256=<HMAC of the raw body>, with {HUB_DELIVERY}"),
    ] = None,
    x_github_delivery: Annotated[
        str | None, Header(description=f"GitHub's delivery id, required with {HUB_SIGNATURE}")
    ] = None,
) -> Any:
    headers = HookHeaders(
        x_baton_signature,
        x_baton_timestamp,
        x_baton_delivery,
        x_hub_signature_256,
        x_github_delivery,
    )
    try:
        body = await _bounded_body(request)
        _signing(request).admit(application, body, headers)
        return await _deploy(request.app.state.dashboard, application, _version(body))
    except Refused as refused:
        return JSONResponse({"detail": str(refused)}, status_code=refused.code)
    except BatonError as exc:
        from baton.web.app import status_for  # app.py registers this module

        return JSONResponse({"detail": str(exc)}, status_code=status_for(exc))


async def _deploy(dashboard: Dashboard, application: str, wanted: str | None) -> HookAnswer:
    dashboard.manifest(application)
    version = release_version(wanted)
    submitted = await dashboard.pending.submit(application, version)
    pending = submitted.pending
    return HookAnswer(
        application=application,
        version=version,
        deploy_id=submitted.deploy_id,
        queued=pending is not None,
        replaced=pending.replaced if pending else None,
    )


async def _bounded_body(request: Request) -> bytes:
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_BODY:
            raise Refused(413, f"body over {MAX_BODY} bytes")
    return body


def _signing(request: Request) -> HookSigning:
    """The webhook's secret, time and memory; 404 when no secret turned it on."""
    secret: bytes | None = getattr(request.app.state, "hook_secret", None)
    if not secret:
        raise Refused(
            status.HTTP_404_NOT_FOUND,
            "the deploy webhook is off: start baton serve with --hook-secret-env or "
            "--hook-secret-file",
        )
    dashboard: Dashboard = request.app.state.dashboard
    return HookSigning(secret, dashboard.clock, dashboard.deliveries)


def _version(body: bytes) -> str | None:
    if not body.strip():
        return None
    try:
        payload = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise Refused(status.HTTP_400_BAD_REQUEST, "the body is not JSON") from None
    if not isinstance(payload, dict):
        raise Refused(status.HTTP_400_BAD_REQUEST, "the body should be a JSON object")
    version = payload.get("version")
    if version is not None and not isinstance(version, str):
        raise Refused(status.HTTP_400_BAD_REQUEST, "version should be a string")
    return version
