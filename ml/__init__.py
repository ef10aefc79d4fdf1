"""Machine learning: an LSTM that predicts p(next bar closes up), judged out of sample.

* ``features``  — per-bar features from candles, trailing windows only (no look-ahead)
* ``windows``   — lookback windows, the train-only scaler, the (X, y) dataset
* ``config``    — ``TrainConfig``: validated hyper-parameters
* ``model``     — the Keras LSTM (TensorFlow is imported only here, lazily)
* ``training``  — fit with early stopping on a time-ordered validation tail; predict
* ``baselines`` — naive baselines (base rate, persistence) and a logistic regression
* ``metrics``   — accuracy, log loss, Brier, AUC, reliability curve, ECE, block-bootstrap intervals
* ``calibration`` — Platt / isotonic calibrator fitted on the validation tail only
* ``ood``       — the out-of-distribution rule (inputs outside the training range)
* ``edge``      — the one "beats the baselines" rule ("no edge" otherwise)
* ``evaluate``  — expanding-window walk-forward: out-of-sample metrics vs baselines
* ``audit``     — leakage audit: nothing for bar t changes when later bars are deleted
* ``registry``  — versioned models on disk, champion / challenger, promote, roll back
* ``inference`` — the champion's calibrated prediction for the latest bar (with spread, or withheld
  with a reason) and series for backtests

Domain code: DataFrames and dataclasses in and out, no Flask, no Dash, no RQ.
"""
