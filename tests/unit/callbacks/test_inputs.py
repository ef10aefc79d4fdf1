"""callbacks.inputs: each callback's schema (finding 11) and the handler that turns a refusal into a message."""
import pytest

from app.validation import InvalidInput


def refusal(call, *args) -> InvalidInput:
    with pytest.raises(InvalidInput) as err:
        call(*args)
    return err.value


def test_finding_11_market_and_signals_refuse_lists_and_dicts_for_symbol_and_timeframe():
    from callbacks import inputs

    assert refusal(inputs.MARKET_CHART, "BTC/USDT", ["1h", "1m"], 3).message == "Timeframe must be text, got a list."
    assert refusal(inputs.SIGNALS_DETAIL, {"s": 1}, "1h", 3).message == "Symbol must be text, got a mapping."
    assert inputs.MARKET_CHART("BTC/USDT", "1h", 3) == ("BTC/USDT", "1h", 3)
    assert inputs.SIGNALS_PICK({"points": [{"y": "ETH/USDT"}]}, None, ["ETH/USDT"]) == ("ETH/USDT", None, ["ETH/USDT"])
    assert refusal(inputs.SIGNALS_PICK, {"points": "x"}, None, []).message == "Heatmap click points must be a list, got text."
    assert refusal(inputs.SIGNALS_PICK, None, [1], []).message == "Table cell must be a mapping, got a list."


def test_finding_11_backtest_poll_needs_a_list_of_run_ids():
    from callbacks import inputs

    assert inputs.followed_runs({"ids": [3, 4], "batch_id": None}) == [3, 4]
    assert inputs.followed_runs(None) == []
    err = refusal(inputs.followed_runs, {"ids": "17"})
    assert err.message == "Followed run ids must be a list, got text." and err.show_in == "bt-form-msg"
    assert refusal(inputs.followed_runs, ["17"]).message == "Followed runs must be a mapping, got a list."
    assert refusal(inputs.BT_RESULT, "abc").message == "Run id must be a whole number, got 'abc'."


def test_strategy_params_take_names_from_the_page_own_ids():
    from callbacks import inputs

    ids = [{"type": "bt-param", "index": "fast"}, {"type": "bt-param", "index": "slow"}]
    assert inputs.strategy_params(["10", "30"], ids) == {"fast": "10", "slow": "30"}
    assert "not one of this page's" in refusal(inputs.strategy_params, ["10"], [None]).message
    assert "do not match" in refusal(inputs.strategy_params, ["10", "3"], ids[:1]).message


def test_finding_11_admin_ids_and_epochs():
    from callbacks import inputs
    from callbacks.admin import ACTIVATE, DEACTIVATE
    from callbacks.admin_models import PROMOTE, ROLLBACK

    assert inputs.user_target({"type": ACTIVATE, "index": 7}, (ACTIVATE, DEACTIVATE)) == 7
    err = refusal(inputs.user_target, {"type": DEACTIVATE, "index": "seven"}, (ACTIVATE, DEACTIVATE))
    assert err.message == "User id must be a whole number, got 'seven'." and err.show_in == "admin-users-msg"
    assert inputs.model_target({"type": PROMOTE, "index": "BTC/USDT|1h|3"}, (PROMOTE, ROLLBACK)) == ["BTC/USDT", "1h", "3"]
    assert inputs.model_target({"type": ROLLBACK, "index": "BTC/USDT|1h"}, (PROMOTE, ROLLBACK)) == ["BTC/USDT", "1h"]
    for bad in ("BTC/USDT|1h", "a|b|c", "x", "BTC/USDT|1h|3|4"):
        err = refusal(inputs.model_target, {"type": PROMOTE, "index": bad}, (PROMOTE, ROLLBACK))
        assert "is not a model of this page" in err.message or "Model version" in err.message, bad
        assert err.show_in == "admin-models-msg"
    assert "must be text" in refusal(inputs.model_target, {"type": PROMOTE, "index": 3}, (PROMOTE, ROLLBACK)).message
    assert refusal(inputs.ADMIN_TRAIN, 1, "BTC/USDT", "1h", True).message == "Max epochs must be a whole number, got True."
    assert inputs.ADMIN_TRAIN(1, "BTC/USDT", "1h", 5) == (1, "BTC/USDT", "1h", 5)
    assert refusal(inputs.ADMIN_PING_POLL, 1, {"id": "x"}).message == "Ping job must be text, got a mapping."


def test_the_handler_shows_refusals_and_re_raises_everything_else(monkeypatch):
    from pages import _input_errors

    shown = {}
    monkeypatch.setattr(_input_errors, "set_props", lambda cid, props: shown.update({cid: props}))
    err = InvalidInput("Timeframe", "Timeframe must be text, got a list.")
    assert _input_errors.show_invalid_input(err) is None
    assert shown == {"shell-input-error": {"children": "Timeframe must be text, got a list.", "is_open": True}}
    err.show_in = "bt-form-msg"
    _input_errors.show_invalid_input(err)
    assert shown["bt-form-msg"]["children"].children == "Timeframe must be text, got a list."
    with pytest.raises(KeyError):
        _input_errors.show_invalid_input(KeyError("boom"))
