"""Waiting for something a real worker or server does in its own time."""
import time


def until(check, timeout: float = 60.0, what: str = "condition", step: float = 0.2):
    """``check()``'s first truthy value, polled every ``step`` seconds; AssertionError naming ``what``
    after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(step)
    raise AssertionError(f"timed out waiting for {what}")
