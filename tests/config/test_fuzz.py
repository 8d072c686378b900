"""Random input to the manifest loader and the settings parser: clean errors, never a traceback."""

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from baton import InputError, ManifestError
from baton.config import parse_manifest
from baton.settings import SPECS, spec_for
from tests.manifests import manifest_text

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-10, 10**6),
    st.floats(allow_nan=False),
    st.text(max_size=12),
)
values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=10), inner, max_size=4)
    ),
    max_leaves=12,
)


def assert_clean(text: str) -> None:
    try:
        parse_manifest(text, "fuzz.yml")
    except ManifestError as exc:
        message = str(exc)
        assert message.startswith("fuzz.yml") and "\n" not in message
        assert "Traceback" not in message and "pydantic" not in message


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(max_size=200))
def test_any_text_gives_a_manifest_or_a_clean_error(text: str) -> None:
    assert_clean(text)


@settings(max_examples=300, deadline=None)
@given(values)
def test_any_yaml_document_gives_a_clean_error(document: object) -> None:
    assert_clean(yaml.safe_dump(document))


KEYS = ["servers", "load_balancers", "deploy", "application"]


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(KEYS), values)
def test_replacing_a_section_with_random_data_gives_a_clean_error(key: str, value: object) -> None:
    document = yaml.safe_load(manifest_text(2, waits=(1, 1)))
    document[key] = value
    assert_clean(yaml.safe_dump(document))


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(sorted(SPECS)), st.text(max_size=20))
def test_settings_parser_accepts_or_rejects_cleanly(key: str, text: str) -> None:
    try:
        stored = spec_for(key).normalise(text)
    except InputError as exc:
        assert key in str(exc) and "\n" not in str(exc)
    else:
        assert spec_for(key).normalise(stored) == stored


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=30))
def test_unknown_setting_keys_are_rejected_cleanly(key: str) -> None:
    try:
        spec_for(key)
    except InputError as exc:
        assert "valid settings" in str(exc)
