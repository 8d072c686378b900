"""Deployment profiles on the dashboard: save the "Deploy with options" choices under a name,
and deploy with a saved profile (one button each on the application page)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, status
from fastapi.responses import RedirectResponse, Response

from baton._exceptions import InputError
from baton.planning import DeployOptions, release_version
from baton.planning.profiles import profile_name, with_profile
from baton.web.api import DashboardDep
from baton.web.auth import require_session
from baton.web.dashboard import Dashboard, NotFound
from baton.web.options_form import OptionsFormDep

router = APIRouter(include_in_schema=False, dependencies=[Depends(require_session)])


@router.post("/apps/{application}/profiles")
async def save_profile(
    application: str,
    dashboard: DashboardDep,
    form: OptionsFormDep,
    name: Annotated[str, Form()] = "",
) -> Response:
    """Save the options dialog's choices (never its version) as profile ``name``."""
    dashboard.manifest(application)
    profile = form.profile()
    if not profile:
        raise InputError("a profile needs at least one choice: a strategy or migrations")
    dashboard.store.save_profile(application, profile_name(name.strip()), profile)
    return RedirectResponse(f"/apps/{application}#profiles", status.HTTP_303_SEE_OTHER)


@router.post("/apps/{application}/profiles/{name}/deploy")
async def deploy_with_profile(application: str, name: str, dashboard: DashboardDep) -> Response:
    profile = _profile(dashboard, application, name)
    options = with_profile(DeployOptions(release_version(None)), name, profile)
    deploy_id = await dashboard.deploy(application, options)
    return RedirectResponse(f"/deploys/{deploy_id}", status.HTTP_303_SEE_OTHER)


def _profile(dashboard: Dashboard, application: str, name: str) -> dict[str, Any]:
    dashboard.manifest(application)
    profiles = dashboard.store.profiles(application)
    if name not in profiles:
        saved = ", ".join(profiles) or "none"
        raise NotFound(f"{application}: no profile {name!r}; saved: {saved}")
    return profiles[name]
