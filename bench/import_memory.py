"""Peak memory of `flask candles import` on a large file: the whole-file parser before the change against
the chunked import, in the same run.

Run from the repo root: ``.venv/bin/python bench/import_memory.py`` (options: ``--mb 50``,
``--old-rev REV``: the revision whose ``app/market/csv_import.py`` is the "old" parser, default
``57bbf70``; ``--scratch-database-url URL``: a throwaway database to import into, whose ``series`` and ``candles``
tables are DROPPED before each pass; default a temporary SQLite file).

It writes a CSV of 1m bars of about ``--mb`` megabytes, then imports it twice, each in a fresh child
process and a fresh database: "old" runs what the command did before (the old module's
``parse_candle_file`` on the whole file, then one ``bulk_upsert_candles``); "new" runs
``app.market.importing.import_file`` (chunks of ``CHUNK_ROWS`` lines). Each child reports its peak
resident memory (``getrusage`` ``ru_maxrss``) and its RSS just before the import (the libraries
loaded), and checks the stored bar count. The last lines are ``RESULT`` lines.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
import types
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def write_csv(path: Path, megabytes: float) -> int:
    import numpy as np
    import pandas as pd

    rows = int(megabytes * 1024 * 1024 / 73)  # ~73 bytes a line below
    rng = np.random.default_rng(7)
    close = 30000 * np.exp(np.cumsum(rng.normal(0, 5e-4, rows)))
    open_ = np.concatenate([[close[0]], close[:-1]])
    high = np.maximum(open_, close) * (1 + rng.uniform(0, 1e-3, rows))
    low = np.minimum(open_, close) * (1 - rng.uniform(0, 1e-3, rows))
    frame = pd.DataFrame({"time": pd.date_range("2022-01-01", periods=rows, freq="1min", tz="UTC"),
                          "open": open_, "high": high, "low": low, "close": close,
                          "volume": rng.uniform(0, 50, rows)})
    frame["time"] = frame["time"].dt.strftime("%Y-%m-%dT%H:%M:%SZ")
    frame.to_csv(path, index=False, float_format="%.4f")
    return rows


def _rss_mb() -> float:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def _old_module(rev: str) -> types.ModuleType:
    source = subprocess.run(["git", "show", f"{rev}:app/market/csv_import.py"], cwd=ROOT, check=True,
                            capture_output=True, text=True).stdout
    module = types.ModuleType("old_csv_import")
    module.__file__ = f"{rev}:app/market/csv_import.py"
    exec(compile(source, module.__file__, "exec"), module.__dict__)
    return module


def child(kind: str, csv_path: str, database_url: str, rev: str) -> None:
    from sqlalchemy import create_engine

    import app.models  # noqa: F401  (registers the tables)
    from app.extensions import db
    from app.market import importing, store

    old = _old_module(rev) if kind == "old" else None
    engine = create_engine(database_url)
    db.metadata.create_all(engine, tables=[store.SERIES, store.CANDLES])
    before = _rss_mb()
    started = time.perf_counter()
    with engine.connect() as conn:
        if kind == "old":  # what `flask candles import` did before: parse everything, then one upsert
            frame = old.parse_candle_file(csv_path, timeframe="1m")
            sid = store.get_or_create_series(conn, "csv", "BTC/USDT", "1m")
            store.bulk_upsert_candles(conn, sid, frame)
        else:
            importing.import_file(conn, csv_path, "csv", "BTC/USDT", "1m")
        conn.commit()
        sid = store.find_series(conn, "csv", "BTC/USDT", "1m")
        stored = store.count_candles(conn, sid)
    seconds = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"kind": kind, "peak_mb": peak, "before_mb": before, "seconds": seconds, "stored": stored}))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--mb", type=float, default=50.0)
    ap.add_argument("--old-rev", default="57bbf70")
    ap.add_argument("--scratch-database-url", dest="database_url", default=None)
    ap.add_argument("--child", choices=("old", "new"))
    ap.add_argument("--csv")
    args = ap.parse_args()
    if args.child:
        child(args.child, args.csv, args.database_url, args.old_rev)
        return
    with tempfile.TemporaryDirectory(prefix="cw-import-bench-") as tmp:
        csv_path = Path(tmp) / "candles.csv"
        rows = write_csv(csv_path, args.mb)
        size = csv_path.stat().st_size / 1024 / 1024
        print(f"file: {size:.1f} MB, {rows:,} rows of 1m bars")
        results = {}
        for kind in ("old", "new"):
            url = args.database_url or f"sqlite:///{Path(tmp) / f'{kind}.db'}"
            if args.database_url:  # the same database for both: start each from an empty series
                _drop_series(url)
            out = subprocess.run([sys.executable, __file__, "--child", kind, "--csv", str(csv_path),
                                  "--scratch-database-url", url, "--old-rev", args.old_rev],
                                 cwd=ROOT, check=True, capture_output=True, text=True)
            res = json.loads(out.stdout.strip().splitlines()[-1])
            if res["stored"] != rows:
                raise SystemExit(f"{kind}: stored {res['stored']} bars, expected {rows}")
            results[kind] = res
            print(f"{kind}: peak {res['peak_mb']:.0f} MB (libraries loaded: {res['before_mb']:.0f} MB), "
                  f"{res['seconds']:.1f} s, {res['stored']:,} bars stored")
        print(f"RESULT import_file_mb {size:.1f} MB")
        print(f"RESULT import_peak_rss_mb_old {results['old']['peak_mb']:.0f} MB")
        print(f"RESULT import_peak_rss_mb_new {results['new']['peak_mb']:.0f} MB")
        print(f"RESULT import_seconds_old {results['old']['seconds']:.1f} s")
        print(f"RESULT import_seconds_new {results['new']['seconds']:.1f} s")


def _drop_series(url: str) -> None:
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    with engine.begin() as conn:
        for table in ("candles", "series"):
            conn.execute(text(f"DROP TABLE IF EXISTS {table}"))
    engine.dispose()


if __name__ == "__main__":
    main()
