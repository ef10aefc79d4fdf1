"""app.hot.action_limits: per-user moving windows on expensive actions, with a message naming the action."""
import pytest
from limits.storage import MemoryStorage

from app.hot.action_limits import ActionLimited, ActionLimits
from app.settings import Settings


def _limits(**rates):
    return ActionLimits(MemoryStorage(), Settings(env="testing", **rates))


def test_a_user_past_the_limit_is_refused_with_the_action_the_limit_and_the_wait():
    limits = _limits(limit_backtest_submit="2 per hour")
    limits.hit("backtest", 7)
    limits.hit("backtest", 7)
    with pytest.raises(ActionLimited) as err:
        limits.hit("backtest", 7)
    assert err.value.field == "Backtests"
    assert str(err.value) == "Backtests: at most 2 per hour per user; try again in 60 min"
    assert 3500 <= err.value.retry_after_s <= 3600
    assert limits.remaining("backtest", 7) == 0


def test_each_user_and_each_action_has_its_own_window():
    limits = _limits(limit_backtest_submit="1 per hour", limit_backtest_batch="1 per hour",
                     limit_model_training="1 per minute")
    limits.hit("backtest", 1)
    limits.hit("backtest", 2)  # another user
    limits.hit("batch", 1)  # another action
    limits.hit("training", 1)
    with pytest.raises(ActionLimited, match="^Model trainings: at most 1 per minute per user; try again in "
                                            r"\d+ s$"):
        limits.hit("training", 1)
    with pytest.raises(ActionLimited, match="^Backtest batches: "):
        limits.hit("batch", 1)


def test_an_unknown_action_and_a_bad_rate_setting_are_refused():
    with pytest.raises(ValueError, match="action must be one of backtest, batch, training"):
        _limits().hit("export", 1)
    with pytest.raises(ValueError, match="LIMIT_MODEL_TRAINING must be a rate like"):
        Settings(env="testing", limit_model_training="lots")
    env = Settings.from_env({"LIMIT_BACKTEST_BATCH": "3 per day"})
    assert env.limit_backtest_batch == "3 per day"
