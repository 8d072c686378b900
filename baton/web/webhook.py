"""The deploy webhook for CI: ``POST /hooks/deploy/{application}``, signed, never logged in.

The request is signed as Git hosting services sign theirs: ``X-Hub-Signature-256:
sha256=<hex HMAC-SHA256 of the raw body>`` with a secret ``baton serve`` reads from an
environment variable or a file (``--hook-secret-env``/``--hook-secret-file``), never from the
manifest. The body is empty or a JSON object; its optional ``version`` is what to deploy.
While a deploy of the application runs, the request is queued (one per application, the
newest wins) and starts when the lock frees.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Annotated, Any

from fastapi import APIRouter, Header, Request, status
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from baton._exceptions import BatonError
from baton.planning import release_version
from baton.web.dashboard import Dashboard
from baton.web.problems import Problem

MAX_BODY = 64 * 1024
SIGNATURE_HEADER = "X-Hub-Signature-256"

router = APIRouter(prefix="/hooks", tags=["webhook"])


class HookAnswer(BaseModel):
    application: str
    version: str
    deploy_id: int | None = Field(description="the deploy started, or null when queued")
    queued: bool = Field(description="true: it starts when the running deploy ends")
    replaced: str | None = Field(default=None, description="the queued version this replaced")


ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": Problem, "description": meaning}
    for code, meaning in {
        400: "the body is not a JSON object, or its version is not a valid version",
        401: f"missing or wrong {SIGNATURE_HEADER}: nothing deployed",
        404: "unknown application, or the webhook is off (no secret given to baton serve)",
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


class Refused(Exception):
    def __init__(self, code: int, detail: str) -> None:
        super().__init__(detail)
        self.code = code


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
    x_hub_signature_256: Annotated[
        str | None, Header(description="sha256=<hex HMAC-SHA256 of the raw body>")
    ] = None,
) -> Any:
    try:
        body = await _bounded_body(request)
        _check_signature(request, body, x_hub_signature_256)
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


def _check_signature(request: Request, body: bytes, header: str | None) -> None:
    secret: bytes | None = getattr(request.app.state, "hook_secret", None)
    if not secret:
        raise Refused(
            status.HTTP_404_NOT_FOUND,
            "the deploy webhook is off: start baton serve with --hook-secret-env or "
            "--hook-secret-file",
        )
    expected = signature(secret, body)
    if header is None or not hmac.compare_digest(header.strip().encode(), expected.encode()):
        raise Refused(
            status.HTTP_401_UNAUTHORIZED,
            f"missing or wrong {SIGNATURE_HEADER}: sign the raw body with HMAC-SHA256",
        )


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


def signature(secret: bytes, body: bytes) -> str:
    """The header value a sender computes: what CI puts in X-Hub-Signature-256."""
    return "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest()
