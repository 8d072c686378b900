"""The API held to its published OpenAPI schema by schemathesis, on a live uvicorn.

Every route gets requests generated from its schema (each alone, then sequences that start a
deploy and follow its links); the test fails on any 5xx, any status the schema does not
declare, and any answer whose body or headers do not match it. The fleet is fake (no servers
needed: what is checked here is the HTTP surface, the sandbox tests cover real deploys) and
instant, so a deploy started by a generated request ends at once.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import FlakyStrategyDefinition, Unsatisfiable
from jsonschema import Draft202012Validator
from schemathesis.generation.modes import GenerationMode
from schemathesis.specs.openapi.checks import positive_data_acceptance
from schemathesis.specs.openapi.schemas import OpenApiSchema

from baton.web import Credentials, create_app
from tests.web.conftest import API_TOKEN, HOOK_SECRET
from tests.web.fakes import fleet_for, write_manifest
from tests.web.live_server import LiveServer

AUTH = {"Authorization": f"Bearer {API_TOKEN}"}
BOUNDED = settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
    database=None,
)


BATCH_REFUSALS = (
    "a ramp's sizes must increase",
    "--batch and --parallel",
    "a ramp must not shrink",
)
"""How a plan refuses batches the schema's pattern lets through: a ramp whose sizes do not
increase, or whose batches shrink, or batches with the parallel strategy."""


def cross_field(case: Any, response: Any) -> list[Any]:
    """The rules OpenAPI cannot state: which values a setting takes depends on its key
    (``deploy.parallel`` a boolean, ``deploy.max_parallel`` a number), and a batch's sizes must
    be 1-100% and increasing, and not parallel; a value the schema allows may be refused with
    400 there, and only there, and only saying so."""
    if response.status_code != 400:
        return []
    detail = response.json()["detail"]
    setting = case.operation.label == "PUT /api/apps/{application}/settings/{key}"
    if setting and f"{case.path_parameters['key']}: invalid value " in detail:
        return [positive_data_acceptance]
    if "batch" in str(case.query or "") + str(case.body or "") and any(
        refusal in detail for refusal in BATCH_REFUSALS
    ):
        return [positive_data_acceptance]
    return []


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    directory = tmp_path_factory.mktemp("schema")
    manifest = write_manifest(directory)
    credentials = Credentials(api_token=API_TOKEN)
    app = create_app(
        directory / "state", [manifest], fleet_for(manifest).drivers(), credentials=credentials
    )
    app.state.hook_secret = HOOK_SECRET  # the webhook on: its refusals are held to the schema
    with LiveServer(app) as server:
        yield server


@pytest.fixture(scope="module")
def api_schema(live: LiveServer) -> OpenApiSchema:
    return schemathesis.openapi.from_url(f"{live.url}/api/openapi.json", headers=AUTH)


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_every_route_keeps_the_schemas_promises(
    api_schema: OpenApiSchema, mode: GenerationMode
) -> None:
    """Requests the schema allows, then requests it does not (those must be refused, 4xx)."""
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert len(operations) >= 11
    for operation in operations:

        @given(case=operation.as_strategy(mode))
        @BOUNDED
        def check(case: Any) -> None:
            response = case.call(headers=AUTH)
            case.validate_response(response, excluded_checks=cross_field(case, response))

        try:
            check()
        except Unsatisfiable:  # no parameters, no body: nothing can be sent that is invalid
            assert mode is GenerationMode.NEGATIVE and operation.method == "get"


def test_sequences_that_follow_a_deploys_links(api_schema: OpenApiSchema) -> None:
    class Machine(api_schema.as_state_machine()):  # type: ignore[misc]
        def get_call_kwargs(self, case: Any) -> dict[str, Any]:
            return {"headers": AUTH}

        def validate_response(
            self, response: Any, case: Any, additional_checks: Any = None, **kwargs: Any
        ) -> None:
            excluded = cross_field(case, response)
            case.validate_response(response, excluded_checks=excluded, transport_kwargs=kwargs)

    # Generate only: a replay (to shrink a failure) meets a server whose state has moved on (a
    # deploy that ran is over), which hypothesis reports as flaky data, not as the failure.
    # Generation itself can meet the same: a rule's precondition (a deploy started, 202) may
    # hold in one test case and not when hypothesis draws it again, because the deploy ended
    # in between. That says nothing of the schema; a fresh run is tried, at most three.
    unreplayed = settings(BOUNDED, max_examples=15, stateful_step_count=6, phases=[Phase.generate])
    for attempt in range(3):
        try:
            Machine.run(settings=unreplayed)
            return
        except FlakyStrategyDefinition:
            if attempt == 2:
                raise


def validator(raw: dict[str, Any], schema: dict[str, Any]) -> Draft202012Validator:
    """``schema`` (which may point into the document's components) as the document means it."""
    return Draft202012Validator({**schema, "components": raw["components"]})


@pytest.mark.parametrize(
    ("batch", "accepted"),
    [
        *[("", True), ("2", True), ("100%", True), ("1,25%,50%", True), ("007", True)],
        *[("0", False), ("101%", False), ("1,0", False), ("250%", False), ("0%", False)],
    ],
)
async def test_the_schema_allows_a_batch_exactly_when_the_plan_takes_it(
    api: httpx.AsyncClient, batch: str, accepted: bool
) -> None:
    raw = (await api.get("/api/openapi.json")).json()
    (parameter,) = [
        p
        for p in raw["paths"]["/api/apps/{application}/plan"]["get"]["parameters"]
        if p["name"] == "batch"
    ]
    answer = await api.get("/api/apps/shop/plan", params={"batch": batch})
    assert validator(raw, parameter["schema"]).is_valid(batch) is accepted
    assert (answer.status_code == 200) is accepted, answer.text


@pytest.mark.parametrize(
    ("body", "accepted"),
    [
        *[({"batch": None, "version": None}, True), ({"run_migrations": False}, True)],
        *[({"batch": "150%"}, False), ({"batch": 2}, False), ({"run_migrations": 0}, False)],
    ],
)
async def test_the_schema_allows_a_deploy_request_exactly_when_the_route_takes_it(
    api: httpx.AsyncClient, body: dict[str, Any], accepted: bool
) -> None:
    raw = (await api.get("/api/openapi.json")).json()
    content = raw["paths"]["/api/apps/{application}/deploys"]["post"]["requestBody"]["content"]
    answer = await api.post("/api/apps/shop/deploys", json=body)
    assert validator(raw, content["application/json"]["schema"]).is_valid(body) is accepted
    assert (answer.status_code == 202) is accepted, answer.text


@pytest.mark.parametrize(("value", "accepted"), [("off", True), ("", False), ("  ", False)])
async def test_the_schema_refuses_a_blank_setting_as_the_route_does(
    api: httpx.AsyncClient, value: str, accepted: bool
) -> None:
    raw = (await api.get("/api/openapi.json")).json()
    route = raw["paths"]["/api/apps/{application}/settings/{key}"]["put"]
    schema = route["requestBody"]["content"]["application/json"]["schema"]
    answer = await api.put("/api/apps/shop/settings/deploy.parallel", json={"value": value})
    assert validator(raw, schema).is_valid({"value": value}) is accepted
    assert (answer.status_code == 200) is accepted, answer.text


def test_the_schema_declares_links_from_a_started_deploy(live: LiveServer) -> None:
    raw = httpx.get(f"{live.url}/api/openapi.json", headers=AUTH).json()
    links = raw["paths"]["/api/apps/{application}/deploys"]["post"]["responses"]["202"]["links"]
    assert {link["operationId"] for link in links.values()} == {
        "show_deploy",
        "list_events",
        "stream_events",
        "cancel_deploy",
    }
