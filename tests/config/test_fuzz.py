"""Random input to the manifest loader and the settings parser: clean errors, never a traceback."""

import tempfile
from pathlib import Path

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from baton import InputError, ManifestError
from baton.config import load_manifest, parse_manifest
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


GOOD = manifest_text(2).encode()


@settings(max_examples=300, deadline=None)
@given(
    st.one_of(
        st.binary(max_size=300),
        st.builds(
            lambda at, junk: GOOD[:at] + junk + GOOD[at:],
            st.integers(0, len(GOOD)),
            st.binary(min_size=1, max_size=8),
        ),
    )
)
def test_any_bytes_in_a_file_give_a_manifest_or_a_clean_error(data: bytes) -> None:
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "fuzz.yml"
        path.write_bytes(data)
        try:
            load_manifest(path)
        except ManifestError as exc:
            assert str(exc).startswith(str(path)) and "\n" not in str(exc)


@settings(max_examples=100, deadline=None)
@given(
    st.integers(1, 200), st.sampled_from(["[", "{", "{a: ", "- ", "? ", "&a [*a, "]), st.booleans()
)
def test_deep_nesting_gives_a_clean_error(depth: int, opener: str, closed: bool) -> None:
    closer = {"[": "]", "{": "}", "{a: ": "}", "&a [*a, ": "]"}.get(opener, "") if closed else ""
    assert_clean("application: shop\nservers:\n  " + opener * depth + "x" + closer * depth)


def nest(kinds: list[bool], leaf: object) -> object:
    for as_list in reversed(kinds):
        leaf = [leaf] if as_list else {"k": leaf}
    return leaf


@settings(max_examples=100, deadline=None)
@given(st.sampled_from(["servers", "deploy", "x"]), st.lists(st.booleans(), max_size=150), values)
def test_deep_yaml_documents_give_a_clean_error(key: str, kinds: list[bool], leaf: object) -> None:
    document = yaml.safe_load(manifest_text(2))
    document[key] = nest(kinds, leaf)
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
