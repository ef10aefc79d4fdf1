"""Print an HTML report to PDF with headless Chromium (``--print-to-pdf``), offline.

The page is written to a private temporary directory and opened as a
``file://`` URL in a throwaway browser profile, with background networking off;
the tear sheet loads nothing from elsewhere, so the PDF is the same page the
browser shows, laid out by its ``@media print`` / ``@page`` rules. Chromium's
virtual time budget lets the inlined plotly.js draw every chart before printing.
The browser runs with a minimal environment (none of the app's settings or
secrets) and is stopped when it overruns ``timeout_s``.

Every failure is a :class:`PdfError` whose ``reason`` says the cause in words a user can act on (the
message itself is for the log). A full temporary disk (``TMPDIR``) is :class:`PdfNoSpace`: the page or
the PDF cannot be written (``ENOSPC``/``EDQUOT``), or Chromium says so (it may still exit 0) or leaves the
directory without room. Whatever happened, the private directory is removed with everything in it, so no
half-written page or PDF is left behind.
"""
from __future__ import annotations

import errno
import shutil
import subprocess
import tempfile
from pathlib import Path

FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
         "--disable-background-networking", "--disable-extensions", "--disable-sync", "--no-first-run",
         "--no-default-browser-check", "--mute-audio", "--no-pdf-header-footer",
         "--run-all-compositor-stages-before-draw")


NO_SPACE_ERRNOS = (errno.ENOSPC, errno.EDQUOT)
LOW_SPACE_BYTES = 1 << 20  # a failed print that leaves less than this free in its directory ran out of disk


class PdfError(RuntimeError):
    """Chromium is missing, failed or timed out; ``reason`` is the cause for the user."""

    def __init__(self, message: str, reason: str = "the browser that prints it failed"):
        super().__init__(message)
        self.reason = reason


class PdfNoSpace(PdfError):
    """The temporary directory is full: the page or the PDF could not be written."""

    def __init__(self, message: str):
        super().__init__(message, "the server's temporary disk is full (no space left on device)")


def _out_of_space(tmp: Path, stderr: str) -> bool:
    if "no space left on device" in stderr.lower():
        return True
    try:
        return shutil.disk_usage(tmp).free < LOW_SPACE_BYTES
    except OSError:
        return False


def html_to_pdf(page: str, chromium: str = "/usr/bin/chromium", timeout_s: float = 90.0,
                render_budget_ms: int = 10_000) -> bytes:
    """The PDF bytes of one self-contained HTML ``page``."""
    if not Path(chromium).is_file():
        raise PdfError(f"Chromium not found at {chromium!r} (setting CHROMIUM_BIN)",
                       "the browser that prints it is not installed on the server")
    try:
        return _print(page, chromium, timeout_s, render_budget_ms)
    except OSError as exc:
        if exc.errno in NO_SPACE_ERRNOS:
            raise PdfNoSpace(f"no space left in the temporary directory {tempfile.gettempdir()!r} for the PDF "
                             f"report: {exc.strerror}") from None
        raise


def _print(page: str, chromium: str, timeout_s: float, render_budget_ms: int) -> bytes:
    with tempfile.TemporaryDirectory(prefix="cw-pdf-") as tmp:
        src, out = Path(tmp) / "report.html", Path(tmp) / "report.pdf"
        src.write_text(page, encoding="utf-8")
        cmd = [chromium, *FLAGS, f"--user-data-dir={Path(tmp) / 'profile'}",
               f"--virtual-time-budget={int(render_budget_ms)}", f"--print-to-pdf={out}", src.as_uri()]
        try:
            # a minimal environment: the browser inherits none of the app's secrets, and its home is the
            # private directory (the app user may own no home of its own)
            proc = subprocess.run(cmd, capture_output=True, timeout=timeout_s, check=False, cwd=tmp,
                                  stdin=subprocess.DEVNULL,
                                  env={"HOME": tmp, "PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"})
        except subprocess.TimeoutExpired:
            raise PdfError(f"Chromium did not finish printing within {timeout_s:g} s",
                           f"printing took longer than {timeout_s:g} s") from None
        if proc.returncode != 0 or not out.is_file() or out.stat().st_size == 0:
            stderr = proc.stderr.decode("utf-8", "replace")
            tail = " | ".join(stderr.strip().splitlines()[-3:])
            if _out_of_space(Path(tmp), stderr):
                raise PdfNoSpace(f"no space left in the temporary directory {str(Path(tmp).parent)!r}: Chromium "
                                 f"could not print the report (exit {proc.returncode}): {tail}")
            raise PdfError(f"Chromium could not print the report (exit {proc.returncode}): {tail}")
        return out.read_bytes()
