import pytest

from baton import SettingError
from baton.settings import Settings, spec_for


@pytest.mark.parametrize(
    ("word", "stored"),
    [
        ("true", "true"),
        ("1", "true"),
        ("on", "true"),
        ("enable", "true"),
        ("TRUE", "true"),
        ("false", "false"),
        ("0", "false"),
        ("off", "false"),
        ("disable", "false"),
    ],
)
def test_boolean_spellings(word: str, stored: str) -> None:
    assert spec_for("deploy.parallel").normalise(word) == stored


def test_invalid_boolean_lists_valid_values() -> None:
    with pytest.raises(SettingError, match=r"deploy.parallel: invalid value 'maybe'.*on/off"):
        spec_for("deploy.parallel").normalise("maybe")


def test_unknown_key_lists_valid_keys() -> None:
    with pytest.raises(SettingError, match=r"unknown setting 'deploy.paralel'.*deploy.parallel"):
        spec_for("deploy.paralel")


def test_defaults_and_stored_values() -> None:
    assert Settings.from_stored({}) == Settings(False, True, 0, 1)
    stored = {"deploy.parallel": "true", "run.deploy.command": "false", "deploy.max_parallel": "8"}
    assert Settings.from_stored(stored) == Settings(True, False, 8, 1)


def test_max_parallel_accepts_unbounded() -> None:
    assert spec_for("deploy.max_parallel").normalise("unbounded") == "0"
    with pytest.raises(SettingError):
        spec_for("deploy.max_parallel").normalise("-1")
