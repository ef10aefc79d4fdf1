"""The "send test notification" button: one message on one channel to the user's saved address,
answered while the user waits, so bounded: the channel's own timeouts (webhook 5 s, Telegram 5 s
with no ``retry_after`` sleep, SMTP 10 s per step) and no retry. The outcome is what the page shows."""
from __future__ import annotations

from dataclasses import dataclass

from app.alerts.channels import Message, dispatch
from app.settings import Settings


@dataclass(frozen=True)
class TrialResult:
    ok: bool
    text: str


def send_test(channel: str, prefs, settings: Settings, store=None) -> TrialResult:
    """Send the test message on ``channel`` (telegram, email or webhook) to ``prefs``' address."""
    msg = Message("Candlewise test notification", f"Test of the {channel} channel from the Alerts page.",
                  {"test": True}, f"test:{channel}")
    out = dispatch(channel, msg, prefs, settings, store=store, interactive=True)
    if out.ok:
        code = f" ({'SMTP' if channel == 'email' else 'HTTP'} {out.code})" if out.code else ""
        return TrialResult(True, f"Test {channel} notification sent{code}.")
    return TrialResult(False, f"Test {channel} notification failed: {out.error or 'no answer'}")
