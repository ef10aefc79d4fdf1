"""Hyper-parameters of the LSTM, validated when built."""
from __future__ import annotations

from dataclasses import asdict, dataclass, fields


@dataclass(frozen=True)
class TrainConfig:
    lookback: int = 32               # bars in each input window
    units: int = 32                  # LSTM width
    dropout: float = 0.1
    learning_rate: float = 1e-3
    epochs: int = 20                 # upper bound; early stopping decides
    batch_size: int = 256
    patience: int = 3                # epochs without a better validation loss before stopping
    validation_fraction: float = 0.2  # time-ordered tail of the training span
    seed: int = 0
    calibration: str = "platt"       # fitted on the validation tail: platt, isotonic or none (ml.calibration)
    ood_margin: float = 0.5          # z-scores beyond the training range that make an input out of distribution

    def __post_init__(self) -> None:
        def check(ok: bool, message: str) -> None:
            if not ok:
                raise ValueError(message)

        check(isinstance(self.lookback, int) and 2 <= self.lookback <= 512, "lookback must be 2..512 bars")
        check(isinstance(self.units, int) and 1 <= self.units <= 512, "units must be 1..512")
        check(0.0 <= self.dropout < 1.0, "dropout must be in [0, 1)")
        check(0.0 < self.learning_rate <= 1.0, "learning_rate must be in (0, 1]")
        check(isinstance(self.epochs, int) and 1 <= self.epochs <= 1000, "epochs must be 1..1000")
        check(isinstance(self.batch_size, int) and 1 <= self.batch_size <= 65536, "batch_size must be 1..65536")
        check(isinstance(self.patience, int) and self.patience >= 1, "patience must be at least 1")
        check(0.05 <= self.validation_fraction <= 0.5, "validation_fraction must be in [0.05, 0.5]")
        check(isinstance(self.seed, int), "seed must be an integer")
        check(self.calibration in ("platt", "isotonic", "none"), "calibration must be platt, isotonic or none")
        check(isinstance(self.ood_margin, (int, float)) and not isinstance(self.ood_margin, bool)
              and 0.0 <= self.ood_margin <= 100.0, "ood_margin must be a number in [0, 100]")

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict | None) -> TrainConfig:
        data = dict(data or {})
        unknown = set(data) - {f.name for f in fields(cls)}
        if unknown:
            raise ValueError(f"unknown training settings: {sorted(unknown)}")
        return cls(**data)
