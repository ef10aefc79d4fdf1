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


def test_alerts_schemas_refuse_type_confused_values_and_pass_the_form():
    from callbacks import inputs

    ids = [{"type": "al-param", "index": "level"}]
    form = ("BTC over 100k", "BTC/USDT", "1h", "price_cross_up", (["100000"], ids), ["inapp"], "once_per_bar", "0",
            "", "", "")
    saved = inputs.AL_SAVE(1, *form, {"id": 4, "kind": "price_cross_up", "params": {}}, 2)
    assert saved[5] == {"level": "100000"} and saved[8] == 0 and saved[-2]["id"] == 4 and saved[-1] == 2
    assert inputs.AL_SAVE(1, *form, None, None)[-2:] == (None, None)
    err = refusal(inputs.AL_SAVE, 1, *form, None, ["1"])
    assert err.message == "Page version must be a whole number, got a list." and err.show_in == "al-form-msg"
    assert refusal(inputs.AL_SAVE, 1, *form, "x", 0).message == "Edited rule must be a mapping, got text."
    assert refusal(inputs.AL_PREVIEW, 1, *form[:5], {"x": 1}, *form[6:], "200").message == \
        "Channels must be a list, got a mapping."
    bad_params = (["1", "2"], ids)
    assert "do not match" in refusal(inputs.AL_PREVIEW, 1, *form[:4], bad_params, *form[5:], "200").message
    assert refusal(inputs.AL_PREVIEW, 1, *form[:4], ([True], ids), *form[5:], "200").message == \
        "Parameter level must be a number or text, got true/false."
    assert "not one of this page's" in refusal(inputs.AL_PREVIEW, 1, *form[:4], (["1"], [None]), *form[5:], "200").message
    assert refusal(inputs.AL_KIND, ["price_cross_up"], None).message == "Condition must be text, got a list."
    assert inputs.AL_RULE_PICK(1, None, ([0], [{"id": 9}])) == (1, None, 9)
    assert inputs.AL_RULE_PICK(1, None, ([3], [{"id": 9}]))[2] is None  # a selection past the data: none
    err = refusal(inputs.AL_RULE_ACTION, 1, None, ([0], [{"id": "abc"}]), 0)
    assert err.message == "Rule id must be a whole number, got 'abc'." and err.show_in == "al-rules-msg"
    assert refusal(inputs.AL_PAUSE_ALL, "maybe").message == "Pause my alerts must be true or false, got text."
    assert refusal(inputs.AL_BELL, 3, [1]).message == "Last alert seen must be a whole number, got a list."
    assert inputs.test_channel({"type": "al-test", "index": "email"}) == "email"
    err = refusal(inputs.test_channel, {"type": "al-test", "index": "sms"})
    assert "Channel must be one of telegram, email, webhook" in err.message and err.show_in == "al-s-msg"


def test_portfolio_schemas_refuse_type_confused_values_and_pass_the_form():
    from callbacks import inputs

    table = [{"id": 5, "kind": "buy", "quantity": 1.5}]
    assert inputs.PF_TX_PICK(([0], table)) == table[0]
    assert inputs.PF_TX_PICK((None, table)) is None and inputs.PF_TX_PICK(([0], [])) is None
    assert refusal(inputs.PF_TX_PICK, ([0], [["x"]])).message == "Transaction row must be a mapping, got a list."
    assert refusal(inputs.PF_TX_PICK, ([True], table)).message == \
        "Transaction selection must be a whole number, got True."
    tx = ("buy", "BTC/USDT", "1", 100, "0", "2026-01-01", "first")
    assert inputs.PF_TX_WRITE(1, None, None, *tx, ([0], table), 3, "main")[3:] == (*tx, 5, 3, "main")
    for value, message in ((True, "Quantity must be a number or text, got true/false."),
                           (float("inf"), "Quantity must be finite, got inf."),
                           (["1"], "Quantity must be a number or text, got a list.")):
        err = refusal(inputs.PF_TX_WRITE, 1, None, None, "buy", "BTC/USDT", value, 1, 0, "2026-01-01", "",
                      (None, None), 0, "main")
        assert err.message == message and err.show_in == "pf-tx-msg"
    assert refusal(inputs.PF_REFRESH, 1, 0, "lifo", True, "main").message.startswith("Cost method must be one of")
    assert refusal(inputs.PF_REFRESH, 1, 0, "fifo", "yes", "main").message == \
        "Benchmark must be true or false, got text."
    assert inputs.PF_IMPORT(None, None, None, None, None) == (None, None, False, None, None)
    assert refusal(inputs.PF_PAPER_START, 1, {"s": 1}, "1h", "ma_cross", "", "10000", "", "", 0).message == \
        "Symbol must be text, got a mapping."
    assert inputs.PF_PAPER_TOGGLE(1, ([0], [{"id": 7}]), 0) == (1, 7, 0)
    assert refusal(inputs.PF_RECONCILE, 1, ([0], [{"id": True}]), "", "").show_in == "pf-recon"
    assert refusal(inputs.PF_ORDER, 1, "BTC/USDT", "1h", ["buy"], "market", "1", "", "gtc", 0).message == \
        "Side must be text, got a list."
    assert refusal(inputs.PF_ORDER_CANCEL, 1, ([0], [{"id": -1}]), 0).show_in == "pf-order-msg"


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


def test_alerts_preview_bars_are_bounded():
    from callbacks import inputs

    form = (1, "n", "BTC/USDT", "1h", "price_above", (["1"], [{"type": "al-param", "index": "level"}]), ["inapp"],
            "every_time", "0", "", "", "")
    assert inputs.AL_PREVIEW(*form, "50")[-1] == 50 and inputs.AL_PREVIEW(*form, None)[-1] is None
    assert refusal(inputs.AL_PREVIEW, *form, "5000").message == \
        "Preview bars must be a whole number from 20 to 400, got 5,000."
