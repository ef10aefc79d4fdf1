"""Versioned LSTM models on disk, one champion per (symbol, timeframe).

Layout under ``root``::

    BTC-USDT/1h/v3/model.keras      the Keras model
    BTC-USDT/1h/v3/meta.json        config, scaler, calibrator, training feature range, spans,
                                    walk-forward metrics (with the reliability curve), data hash
    BTC-USDT/1h/v3/members/1.keras  optional: the walk-forward fold models (their scalers and
                                    calibrators in meta.json "members"), for the spread at inference
    BTC-USDT/1h/champion.json       {"version": 3, "history": [1, 3]}  (promotion order)

The *challenger* is the newest version that is not the champion; it predicts
in shadow next to the champion (``app.mlops.predict``, ``app.mlops.live``).

A version directory is written under a temporary name and renamed into place,
so a reader never sees half a model. ``should_promote`` is the champion /
challenger rule: a challenger must have an edge (``ml.edge.edge_verdict``: beat
both naive baselines out of sample) and, if there is a champion, beat the
champion's out-of-sample log loss too. Versions stored before calibration load
with no calibrator (raw outputs) and no out-of-distribution range.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import errno
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd

from ml.calibration import Calibrator
from ml.config import TrainConfig
from ml.edge import edge_verdict
from ml.features import FEATURES
from ml.ood import FeatureRange
from ml.training import SPREAD_METHOD, TrainedModel
from ml.windows import Scaler

_VERSION = re.compile(r"^v(\d+)$")
ABANDONED_AFTER_S = 6 * 3600  # a ".v*" temporary directory this old belongs to a save that was killed


def slug(symbol: str) -> str:
    s = re.sub(r"[^A-Za-z0-9]+", "-", symbol).strip("-")
    if not s:
        raise ValueError(f"bad symbol {symbol!r}")
    return s


@dataclass(frozen=True)
class ModelVersion:
    symbol: str
    timeframe: str
    version: int
    meta: dict

    @property
    def walk_forward(self) -> dict | None:
        """``WalkForward.to_dict()`` of the evaluation stored with the model, if any."""
        return self.meta.get("walk_forward")

    @property
    def summary(self) -> dict | None:
        """Out-of-sample metrics per model (lstm, base_rate, persistence), if evaluated."""
        return (self.walk_forward or {}).get("summary")


def should_promote(challenger: dict | None, champion: dict | None, metric: str = "log_loss") -> tuple[bool, str]:
    """(promote?, why) from two walk-forward summaries ({model: metrics})."""
    ok, why = edge_verdict(challenger, metric)
    if not ok:
        return False, why
    mine = challenger["lstm"][metric]
    if champion and not mine < champion["lstm"][metric]:
        return False, f"out-of-sample {metric} {mine:.5f} does not beat the champion's {champion['lstm'][metric]:.5f}"
    return True, why + (" and the champion" if champion else "")


class Registry:
    def __init__(self, root: str | os.PathLike) -> None:
        self.root = Path(root)

    def _dir(self, symbol: str, timeframe: str) -> Path:
        if not re.fullmatch(r"[0-9]+[mhdw]", timeframe):
            raise ValueError(f"bad timeframe {timeframe!r}")
        return self.root / slug(symbol) / timeframe

    def versions(self, symbol: str, timeframe: str) -> list[ModelVersion]:
        base = self._dir(symbol, timeframe)
        found = []
        if base.is_dir():
            for child in base.iterdir():
                m = _VERSION.match(child.name)
                if m and (child / "meta.json").is_file():
                    meta = json.loads((child / "meta.json").read_text())
                    found.append(ModelVersion(symbol, timeframe, int(m.group(1)), meta))
        return sorted(found, key=lambda v: v.version)

    def remove_abandoned(self, older_than_s: float = ABANDONED_AFTER_S, now: float | None = None) -> list[str]:
        """Delete the temporary ``.v*`` directories a killed save left behind (older than ``older_than_s``:
        a save in progress takes seconds); returns their paths relative to the root. Never touches a version."""
        now = time.time() if now is None else now
        removed = []
        if not self.root.is_dir():
            return removed
        for tmp in self.root.glob("*/*/.v*"):
            try:
                if tmp.is_dir() and not tmp.is_symlink() and now - tmp.stat().st_mtime > older_than_s:
                    shutil.rmtree(tmp)
                    removed.append(str(tmp.relative_to(self.root)))
            except OSError:  # gone meanwhile, or not ours to delete: left for the next sweep
                continue
        return sorted(removed)

    def save(self, symbol: str, timeframe: str, trained: TrainedModel, *, walk_forward: dict | None = None,
             data_hash: str | None = None, members=None) -> ModelVersion:
        """Store a new version; ``members`` (default ``trained.members``) are the walk-forward fold models."""
        members = tuple(trained.members if members is None else members)
        base = self._dir(symbol, timeframe)
        base.mkdir(parents=True, exist_ok=True)
        existing = self.versions(symbol, timeframe)
        version = existing[-1].version + 1 if existing else 1
        meta = trained.meta() | {"symbol": symbol, "timeframe": timeframe, "version": version,
                                 "created_at": datetime.now(UTC).isoformat(), "data_hash": data_hash,
                                 "walk_forward": walk_forward,
                                 "members": [m.meta() | {"file": f"members/{i}.keras"}
                                             for i, m in enumerate(members, start=1)],
                                 "uncertainty": {"method": SPREAD_METHOD, "members": len(members)}}
        tmp = Path(tempfile.mkdtemp(prefix=".v", dir=base))
        try:
            trained.model.save(tmp / "model.keras")
            if members:
                (tmp / "members").mkdir()
            for i, m in enumerate(members, start=1):
                m.model.save(tmp / "members" / f"{i}.keras")
            (tmp / "meta.json").write_text(json.dumps(meta, indent=1))
            os.rename(tmp, base / f"v{version}")      # fails if another writer took the number
        except OSError as exc:
            shutil.rmtree(tmp, ignore_errors=True)
            if exc.errno in (errno.ENOSPC, errno.EDQUOT):
                raise OSError(exc.errno, f"model directory {self.root} is full (no space left on device) while "
                                         f"storing {symbol} {timeframe} v{version}; nothing was stored") from exc
            raise
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        return ModelVersion(symbol, timeframe, version, meta)

    def _pointer(self, symbol: str, timeframe: str) -> dict:
        path = self._dir(symbol, timeframe) / "champion.json"
        return json.loads(path.read_text()) if path.is_file() else {"version": None, "history": []}

    def _write_pointer(self, symbol: str, timeframe: str, pointer: dict) -> None:
        path = self._dir(symbol, timeframe) / "champion.json"
        tmp = path.with_suffix(".tmp")
        try:
            tmp.write_text(json.dumps(pointer))
            os.replace(tmp, path)  # the old pointer stays in place until the new one is whole
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise

    def champion(self, symbol: str, timeframe: str) -> ModelVersion | None:
        version = self._pointer(symbol, timeframe)["version"]
        if version is None:
            return None
        return self.get(symbol, timeframe, version)

    def challenger(self, symbol: str, timeframe: str, champion: ModelVersion | None = None) -> ModelVersion | None:
        """The newest stored version that is not the champion (it predicts in shadow; None when there is none)."""
        champion = champion if champion is not None else self.champion(symbol, timeframe)
        others = [v for v in self.versions(symbol, timeframe) if champion is None or v.version != champion.version]
        return others[-1] if others else None

    def get(self, symbol: str, timeframe: str, version: int) -> ModelVersion:
        for v in self.versions(symbol, timeframe):
            if v.version == version:
                return v
        raise ValueError(f"no model v{version} for {symbol} {timeframe}")

    def promote(self, symbol: str, timeframe: str, version: int) -> ModelVersion:
        chosen = self.get(symbol, timeframe, version)
        pointer = self._pointer(symbol, timeframe)
        if pointer["version"] != version:
            pointer = {"version": version, "history": [*pointer["history"], version]}
            self._write_pointer(symbol, timeframe, pointer)
        return chosen

    def rollback(self, symbol: str, timeframe: str) -> ModelVersion:
        """Make the previous champion the champion again."""
        pointer = self._pointer(symbol, timeframe)
        if len(pointer["history"]) < 2:
            raise ValueError(f"no earlier champion for {symbol} {timeframe} to roll back to")
        history = pointer["history"][:-1]
        self._write_pointer(symbol, timeframe, {"version": history[-1], "history": history})
        return self.get(symbol, timeframe, history[-1])

    def load(self, symbol: str, timeframe: str, version: int | None = None) -> tuple[ModelVersion, TrainedModel]:
        """A stored model (the champion by default), ready to predict."""
        from ml.model import keras

        chosen = self.champion(symbol, timeframe) if version is None else self.get(symbol, timeframe, version)
        if chosen is None:
            raise ValueError(f"no champion model for {symbol} {timeframe}")
        meta = chosen.meta
        if tuple(meta["features"]) != FEATURES:
            raise ValueError(f"model v{chosen.version} was trained on other features: retrain it")
        folder = self._dir(symbol, timeframe) / f"v{chosen.version}"
        members = tuple(_trained(keras().saving.load_model(folder / m["file"]), m) for m in meta.get("members") or ())
        return chosen, _trained(keras().saving.load_model(folder / "model.keras"), meta, members)


def _trained(model, meta: dict, members: tuple = ()) -> TrainedModel:
    return TrainedModel(
        model=model, scaler=Scaler.from_dict(meta["scaler"]), config=TrainConfig.from_dict(meta["config"]),
        features=FEATURES, trained_from=pd.Timestamp(meta["trained_from"]),
        trained_until=pd.Timestamp(meta["trained_until"]), n_train=meta["n_train"],
        n_validation=meta["n_validation"], epochs_run=meta["epochs_run"],
        best_val_loss=meta["best_val_loss"], seconds=meta["seconds"],
        calibrator=Calibrator.from_dict(meta.get("calibrator")),
        feature_range=FeatureRange.from_dict(meta.get("feature_range")), members=members)
