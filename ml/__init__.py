"""Machine learning: an LSTM that predicts p(next bar closes up), judged out of sample.

* ``features``  — per-bar features from candles, trailing windows only (no look-ahead)
* ``windows``   — lookback windows, the train-only scaler, the (X, y) dataset
* ``config``    — ``TrainConfig``: validated hyper-parameters
* ``model``     — the Keras LSTM (TensorFlow is imported only here, lazily)
* ``training``  — fit with early stopping on a time-ordered validation tail; predict
* ``baselines`` — naive baselines and the classification metrics
* ``evaluate``  — expanding-window walk-forward: out-of-sample metrics vs baselines
* ``registry``  — versioned models on disk, champion / challenger, promote, roll back
* ``inference`` — the champion's prediction for the latest bar and series for backtests

Domain code: DataFrames and dataclasses in and out, no Flask, no Dash, no RQ.
"""
