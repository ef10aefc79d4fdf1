"""ML_LIVE_WINDOW: the live comparison window is a validated setting."""
import pytest

from app.settings import Settings


def test_the_window_comes_from_the_environment_and_defaults_to_200():
    assert Settings.from_env({}).ml_live_window == 200
    assert Settings.from_env({"ML_LIVE_WINDOW": "50"}).ml_live_window == 50


@pytest.mark.parametrize("value", ["5", "100001", "many"])
def test_a_bad_window_is_refused_naming_the_variable(value):
    with pytest.raises(ValueError, match="ML_LIVE_WINDOW"):
        Settings.from_env({"ML_LIVE_WINDOW": value})
