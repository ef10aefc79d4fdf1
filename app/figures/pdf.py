"""Print an HTML report to PDF with headless Chromium (``--print-to-pdf``), offline.

The page is written to a private temporary directory and opened as a
``file://`` URL in a throwaway browser profile, with background networking off;
the tear sheet loads nothing from elsewhere, so the PDF is the same page the
browser shows, laid out by its ``@media print`` / ``@page`` rules. Chromium's
virtual time budget lets the inlined plotly.js draw every chart before printing.
The browser runs with a minimal environment (none of the app's settings or
secrets) and is stopped when it overruns ``timeout_s``.
"""
from __future__ import annotations

import subprocess
import tempfile
from pathlib import Path

FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
         "--disable-background-networking", "--disable-extensions", "--disable-sync", "--no-first-run",
         "--no-default-browser-check", "--mute-audio", "--no-pdf-header-footer",
         "--run-all-compositor-stages-before-draw")


class PdfError(RuntimeError):
    """Chromium is missing, failed or timed out."""


def html_to_pdf(page: str, chromium: str = "/usr/bin/chromium", timeout_s: float = 90.0,
                render_budget_ms: int = 10_000) -> bytes:
    """The PDF bytes of one self-contained HTML ``page``."""
    if not Path(chromium).is_file():
        raise PdfError(f"Chromium not found at {chromium!r} (setting CHROMIUM_BIN)")
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
            raise PdfError(f"Chromium did not finish printing within {timeout_s:g} s") from None
        if proc.returncode != 0 or not out.is_file() or out.stat().st_size == 0:
            tail = proc.stderr.decode("utf-8", "replace").strip().splitlines()[-3:]
            raise PdfError(f"Chromium could not print the report (exit {proc.returncode}): {' | '.join(tail)}")
        return out.read_bytes()
