"""Per-user limits on expensive actions: submitting a backtest, submitting a batch, starting an LSTM
training. Each is a moving window (the ``limits`` library, as Flask-Limiter uses it) on the rate-limit
storage Flask-Limiter was given (Redis in production, so every web process counts the same hits;
memory in embedded mode's one process), keyed ``{prefix}:actions`` + action + user id.

The rates are settings (``LIMIT_BACKTEST_SUBMIT``, ``LIMIT_BACKTEST_BATCH``, ``LIMIT_MODEL_TRAINING``).
A refused action raises :class:`ActionLimited`, whose message names the action, the limit and when to
try again, for the page to show; only an action that passed its validation is counted.
"""
from __future__ import annotations

import math
import time

from limits import parse
from limits.strategies import MovingWindowRateLimiter

from app.settings import Settings

ACTIONS = {  # action -> (setting, what the message calls it)
    "backtest": ("limit_backtest_submit", "Backtests"),
    "batch": ("limit_backtest_batch", "Backtest batches"),
    "training": ("limit_model_training", "Model trainings"),
}


class ActionLimited(ValueError):
    """Too many of one action by one user; ``field`` is the action's name, ``retry_after_s`` when to try again."""

    def __init__(self, field: str, message: str, retry_after_s: int):
        super().__init__(f"{field}: {message}")
        self.field = field
        self.retry_after_s = retry_after_s


def _wait(seconds: int) -> str:
    return f"{seconds} s" if seconds < 120 else f"{math.ceil(seconds / 60)} min"


class ActionLimits:
    def __init__(self, storage, settings: Settings):
        self.strategy = MovingWindowRateLimiter(storage)
        self.settings = settings
        self.namespace = f"{settings.redis_prefix}:actions"

    def _limit(self, action: str):
        if action not in ACTIONS:
            raise ValueError(f"action must be one of {', '.join(ACTIONS)}, got {action!r}")
        setting, label = ACTIONS[action]
        text = getattr(self.settings, setting)
        return parse(text), label, text

    def hit(self, action: str, user_id: int) -> None:
        """Count one ``action`` of ``user_id``, or raise :class:`ActionLimited` (nothing counted) past its limit."""
        limit, label, text = self._limit(action)
        if self.strategy.hit(limit, self.namespace, action, str(int(user_id))):
            return
        reset = self.strategy.get_window_stats(limit, self.namespace, action, str(int(user_id))).reset_time
        wait = max(1, math.ceil(reset - time.time()))
        raise ActionLimited(label, f"at most {text} per user; try again in {_wait(wait)}", wait)

    def remaining(self, action: str, user_id: int) -> int:
        limit, _label, _text = self._limit(action)
        return self.strategy.get_window_stats(limit, self.namespace, action, str(int(user_id))).remaining


def action_limits(settings: Settings) -> ActionLimits:
    """The limits on the server's rate-limit storage (Flask-Limiter's, set up by ``create_server``)."""
    from app.extensions import limiter

    return ActionLimits(limiter.storage, settings)
