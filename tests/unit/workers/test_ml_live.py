"""workers.ml: what the (weekly) retrain reports about the champion's live record."""
from workers.ml import _live_summary


def test_the_retrain_reports_the_flag_its_reasons_and_the_test():
    report = {"champion": 3, "challenger": 4, "window": 200,
              "review": {"n": 150, "flagged": True, "reasons": ["live log loss 0.70000 is behind the challenger's"],
                         "metrics": {"accuracy": 0.48, "log_loss": 0.7, "base_rate_log_loss": 0.693, "curve": []},
                         "versus": {"n": 150, "dm": {"p_value": 0.04, "statistic": 2.1}}}}
    got = _live_summary(report)
    assert got == {"champion": 3, "challenger": 4, "window": 200, "scored": 150, "flagged": True,
                   "reasons": ["live log loss 0.70000 is behind the challenger's"], "live_accuracy": 0.48,
                   "live_log_loss": 0.7, "base_rate_log_loss": 0.693, "dm_p_value": 0.04}
    assert _live_summary(None) is None
    young = report | {"challenger": None, "review": {"n": 3, "flagged": False, "reasons": ["3 scored"],
                                                     "metrics": None, "versus": None}}
    assert _live_summary(young)["live_accuracy"] is None and _live_summary(young)["dm_p_value"] is None
