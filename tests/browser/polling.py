"""Waiting in the browser for what a page draws in its own time."""
import time


def wait_script(duo, script, check, timeout=20, what=""):
    """The first value of ``script`` (run in the page) that is not None and passes ``check``;
    AssertionError with the last value seen after ``timeout`` seconds."""
    deadline = time.time() + timeout
    value = None
    while time.time() < deadline:
        value = duo.driver.execute_script(script)
        if value is not None and check(value):
            return value
        time.sleep(0.2)
    raise AssertionError(f"{what}: last value {value!r}")
