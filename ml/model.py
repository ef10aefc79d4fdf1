"""The Keras LSTM: a window of scaled features in, p(next close is higher) out.

TensorFlow is heavy to import (~6 s here), so it is imported on first use.
"""
from __future__ import annotations

import os

from ml.config import TrainConfig


def keras():
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import keras as _keras

    return _keras


def build_lstm(n_features: int, config: TrainConfig):
    """One LSTM layer, dropout, a sigmoid output; Adam on binary cross-entropy.
    Seeds Python, NumPy and TensorFlow so a run is repeatable on the same machine."""
    k = keras()
    k.utils.set_random_seed(config.seed)
    model = k.Sequential([
        k.Input((config.lookback, n_features)),
        k.layers.LSTM(config.units),
        k.layers.Dropout(config.dropout),
        k.layers.Dense(1, activation="sigmoid"),
    ])
    model.compile(optimizer=k.optimizers.Adam(config.learning_rate), loss="binary_crossentropy")
    return model
