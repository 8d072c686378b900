"""The one error shape every API answer that is not a success has, and which route declares what.

Every route declares each status it can return, with this body, so the published OpenAPI
schema is a promise a client (or a schema-driven test) can hold the API to.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field


class Problem(BaseModel):
    """Why a request was refused; nothing was changed."""

    detail: str = Field(description="one line saying what was wrong and what is valid")
    errors: list[str] | None = Field(
        default=None, description="422 only: each part of the request that did not match"
    )
    holder: dict[str, Any] | None = Field(
        default=None, description="409 on a deploy: who holds the application's deploy lock"
    )


MEANINGS = {
    400: "bad input (nothing changed)",
    401: "not logged in: no or wrong bearer token or session",
    403: "cross-site request, or no CSRF token with a session cookie",
    404: "unknown application or deploy",
    409: "another deploy of the application is running, or the deploy is not running here",
    422: "the request does not match this schema",
    502: "a load balancer or server refused before anything changed",
}
ALWAYS = (401, 403, 422)


def problems(*codes: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` for ``codes`` and the ones every API route can return."""
    return {
        code: {"model": Problem, "description": MEANINGS[code]}
        for code in sorted({*ALWAYS, *codes})
    }
