"""Validation of single transactions, the ledger rule and CSV import (good and bad files)."""
from datetime import datetime, timezone

import pytest

from app.portfolio.transactions import (TransactionError, TransactionFileError, check_ledger, make_transaction,
                                        parse_csv, to_csv)

NOW = datetime(2026, 6, 1, tzinfo=timezone.utc)
KNOWN = ("BTC/USDT", "ETH/USDT")


def _make(**kw):
    base = dict(time="2026-01-02T00:00:00Z", kind="buy", asset="BTC/USDT", quantity="1", price="100", fee="0")
    base.update(kw)
    return make_transaction(known_assets=KNOWN, now=NOW, **base)


def test_valid_buy_is_utc_and_typed():
    t = _make(time="2026-01-02 10:00", note=" first ")
    assert t.time == datetime(2026, 1, 2, 10, tzinfo=timezone.utc)
    assert (t.kind, t.asset, t.quantity, t.price, t.note) == ("buy", "BTC/USDT", 1.0, 100.0, "first")
    assert t.cash_delta == -100.0


@pytest.mark.parametrize("kw, field", [
    ({"quantity": "-1"}, "quantity"), ({"quantity": "0"}, "quantity"), ({"quantity": "abc"}, "quantity"),
    ({"asset": "DOGE/USDT"}, "asset"), ({"time": "2027-01-01"}, "time"), ({"time": "yesterday"}, "time"),
    ({"time": "-0"}, "time"),  # year 0: a Timestamp that Python's datetime cannot hold
    ({"kind": "gift"}, "kind"), ({"price": ""}, "price"), ({"fee": "-1"}, "fee"), ({"note": "x" * 201}, "note"),
    ({"kind": "deposit", "asset": "BTC/USDT"}, "asset"), ({"kind": "deposit", "asset": "", "price": "2"}, "price"),
])
def test_bad_fields_are_named(kw, field):
    with pytest.raises(TransactionError) as err:
        _make(**kw)
    assert err.value.field == field and str(err.value).startswith(field)


def test_selling_more_than_held_is_refused_unless_shorting():
    ledger = [_make(kind="deposit", asset="", quantity="1000", price="", time="2026-01-01"), _make()]
    sell = _make(kind="sell", quantity="2", time="2026-01-03")
    with pytest.raises(TransactionError, match="quantity: sells 2 BTC/USDT but only 1 is held"):
        check_ledger(ledger + [sell])
    check_ledger(ledger + [sell], allow_short=True)


def test_withdrawing_more_than_cash_is_refused():
    ledger = [_make(kind="deposit", asset="", quantity="100", price="", time="2026-01-01")]
    with pytest.raises(TransactionError, match="quantity: withdraw"):
        check_ledger(ledger + [_make(kind="withdraw", asset="", quantity="150", price="", time="2026-01-02")])


GOOD = """time,kind,asset,quantity,price,fee,note
2026-01-01T00:00:00Z,deposit,,10000,,,
2026-01-02T00:00:00Z,buy,BTC/USDT,1,100,1,first
2026-01-03T00:00:00Z,sell,btc/usdt,0.5,200,0.5,
"""


def test_good_csv_imports_every_row_and_round_trips():
    rows, errors = parse_csv(GOOD, known_assets=KNOWN, now=NOW)
    assert errors == [] and [t.kind for t in rows] == ["deposit", "buy", "sell"]
    assert rows[2].asset == "BTC/USDT" and rows[1].fee == 1.0
    again, _ = parse_csv(to_csv(rows), known_assets=KNOWN, now=NOW)
    assert [(t.time, t.kind, t.asset, t.quantity, t.price, t.fee) for t in again] == \
           [(t.time, t.kind, t.asset, t.quantity, t.price, t.fee) for t in rows]


BAD = """time,kind,asset,quantity,price,fee,note
2026-01-01T00:00:00Z,deposit,,10000,,,
2026-01-02T00:00:00Z,buy,BTC/USDT,-1,100,1,negative
2026-01-02T00:00:00Z,buy,XRP/USDT,1,100,1,unknown
2030-01-02T00:00:00Z,buy,BTC/USDT,1,100,1,future
2026-01-02T00:00:00Z,buy,BTC/USDT,1,100
2026-01-03T00:00:00Z,sell,BTC/USDT,5,100,0,oversell
2026-01-04T00:00:00Z,buy,ETH/USDT,2,50,0,fine
"""


def test_bad_csv_reports_every_line_and_returns_nothing():
    with pytest.raises(TransactionFileError) as err:
        parse_csv(BAD, known_assets=KNOWN, now=NOW)
    lines = dict(err.value.errors)
    assert sorted(lines) == [3, 4, 5, 6, 7]
    assert lines[3].startswith("quantity") and lines[4].startswith("asset") and lines[5].startswith("time")
    assert "fields" in lines[6] and lines[7].startswith("quantity: sells 5")


def test_partial_keeps_the_good_rows():
    rows, errors = parse_csv(BAD, known_assets=KNOWN, now=NOW, partial=True)
    assert [t.note for t in rows] == ["", "fine"]
    assert [n for n, _ in errors] == [3, 4, 5, 6, 7]


def test_partial_drops_a_row_that_depends_on_a_dropped_one():
    text = GOOD.replace("BTC/USDT,1,100,1,first", "BTC/USDT,1,-100,1,first")
    rows, errors = parse_csv(text, known_assets=KNOWN, now=NOW, partial=True)
    assert [t.kind for t in rows] == ["deposit"]
    assert dict(errors)[3].startswith("price") and dict(errors)[4].startswith("quantity: sells 0.5 BTC/USDT but only 0")


def test_partial_drops_a_row_whose_cash_came_from_a_dropped_sell():
    text = GOOD + "2026-01-04T00:00:00Z,sell,BTC/USDT,5,100,0,oversell\n2026-01-05T00:00:00Z,withdraw,,10000,,,\n"
    rows, errors = parse_csv(text, known_assets=KNOWN, now=NOW, partial=True)
    assert [t.kind for t in rows] == ["deposit", "buy", "sell"]
    assert dict(errors)[5].startswith("quantity: sells 5")
    assert dict(errors)[6].startswith("quantity: withdraw") or dict(errors)[6] == "depends on a dropped line"


@pytest.mark.parametrize("text, message", [
    ("", "empty"), ("time,kind\n2026-01-01,deposit\n", "missing column(s) quantity"),
    ("time,kind,quantity\n", "no rows"), (b"\xff\xfe\x00", "UTF-8"),
])
def test_malformed_files(text, message):
    with pytest.raises(TransactionFileError) as err:
        parse_csv(text, known_assets=KNOWN, now=NOW, partial=True)
    assert err.value.errors[0][0] == 1 and message in err.value.errors[0][1]
