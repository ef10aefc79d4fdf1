"""Transactions: one validated value object per row, the ledger rule that nothing is sold or
withdrawn that is not there, and CSV import.

A transaction is ``(time, kind, asset, quantity, price, fee, note)``:

* ``buy`` / ``sell``: ``asset`` is a known market symbol (``BTC/USDT``), ``quantity`` units at
  ``price`` quote currency each; ``fee`` in quote currency (added to the cost of a buy, taken from
  the proceeds of a sell);
* ``deposit`` / ``withdraw``: cash in the quote currency (``asset`` is the cash asset, ``price`` 1);
* ``fee``: a standalone charge of ``quantity`` quote currency (custody, transfer).

Validation names the field (or the CSV line) and changes nothing: :func:`check_ledger` replays the
existing transactions and the new ones in time order and refuses a sell of more than is held
(unless ``allow_short``) and a withdrawal or fee of more cash than there is.

CSV: header ``time,kind,asset,quantity,price,fee,note`` (case-insensitive; ``fee``, ``note`` and,
for cash kinds, ``asset`` and ``price`` may be empty). Times are ISO-8601; without an offset they are
taken as UTC. All-or-nothing: :class:`TransactionFileError` lists every ``(line, message)``; with
``partial=True`` the good rows are returned with the bad ones listed.
"""
from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass, replace
from datetime import datetime, timezone

import pandas as pd

from app.validation import names_a_date

KINDS = ("buy", "sell", "deposit", "withdraw", "fee")
TRADE_KINDS = ("buy", "sell")
CASH_KINDS = ("deposit", "withdraw", "fee")
DEFAULT_CASH = "USDT"
CSV_COLUMNS = ("time", "kind", "asset", "quantity", "price", "fee", "note")
REQUIRED_COLUMNS = ("time", "kind", "quantity")
MAX_NOTE = 200
MAX_ROWS = 100_000
EPS = 1e-12


class TransactionError(ValueError):
    """A transaction is refused; ``field`` names what is wrong."""

    def __init__(self, field: str, message: str):
        super().__init__(f"{field}: {message}")
        self.field = field


class TransactionFileError(ValueError):
    """A CSV file is refused; ``errors`` lists every ``(line, message)`` (line 1 is the header)."""

    def __init__(self, errors: list[tuple[int, str]]):
        self.errors = errors
        listed = "; ".join(f"line {n}: {m}" for n, m in errors[:20])
        more = f" (and {len(errors) - 20} more)" if len(errors) > 20 else ""
        super().__init__(f"{len(errors)} bad line(s): {listed}{more}")


@dataclass(frozen=True)
class Transaction:
    time: datetime
    kind: str
    asset: str
    quantity: float
    price: float = 1.0
    fee: float = 0.0
    note: str = ""
    id: int | None = None

    @property
    def cash_delta(self) -> float:
        """What the transaction does to the cash balance (quote currency)."""
        if self.kind == "buy":
            return -(self.quantity * self.price + self.fee)
        if self.kind == "sell":
            return self.quantity * self.price - self.fee
        if self.kind == "deposit":
            return self.quantity
        return -self.quantity     # withdraw, fee

    def to_dict(self) -> dict:
        return {"id": self.id, "time": self.time.isoformat(), "kind": self.kind, "asset": self.asset,
                "quantity": self.quantity, "price": self.price, "fee": self.fee, "note": self.note}


def _number(field: str, value, *, positive: bool, allow_zero: bool = False) -> float:
    if isinstance(value, bool):
        raise TransactionError(field, f"must be a number, got {value!r}")
    if isinstance(value, str):
        text = value.strip()
        if not text:
            raise TransactionError(field, "is required")
        try:
            value = float(text)
        except ValueError:
            raise TransactionError(field, f"must be a number, got {text!r}") from None
    if not isinstance(value, (int, float)):
        raise TransactionError(field, f"must be a number, got {value!r}")
    value = float(value)
    if not math.isfinite(value):
        raise TransactionError(field, "must be a finite number")
    if positive and (value < 0 or (value == 0 and not allow_zero)):
        raise TransactionError(field, f"must be {'zero or more' if allow_zero else 'positive'}, got {value:g}")
    return value


def parse_time(value, field: str = "time") -> datetime:
    """ISO-8601 text or a datetime; naive means UTC; the result is tz-aware UTC."""
    if isinstance(value, datetime):
        ts = pd.Timestamp(value)
    else:
        text = str(value or "").strip()
        if not text:
            raise TransactionError(field, "is required")
        if not names_a_date(text):
            raise TransactionError(field, f"must name a date (YYYY-MM-DD, optionally with a time), got {text[:40]!r}")
        try:
            ts = pd.Timestamp(text)
        except (ValueError, TypeError):
            raise TransactionError(field, f"is not a date/time: {text!r}") from None
        if ts is pd.NaT:
            raise TransactionError(field, f"is not a date/time: {text!r}")
    ts = ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")
    try:
        return ts.to_pydatetime()
    except ValueError:  # a Timestamp Python's datetime cannot hold, e.g. year 0 from "-0"
        raise TransactionError(field, f"is out of range: {str(value)[:40]!r}") from None


def make_transaction(*, time, kind, asset="", quantity, price=None, fee=None, note="",
                     known_assets, cash_asset: str = DEFAULT_CASH, now: datetime | None = None,
                     id: int | None = None) -> Transaction:
    """Validate one transaction's fields; raise :class:`TransactionError` naming the first bad one."""
    now = now or datetime.now(timezone.utc)
    kind_ = str(kind or "").strip().lower()
    if kind_ not in KINDS:
        raise TransactionError("kind", f"must be one of {', '.join(KINDS)}, got {kind!r}")
    when = parse_time(time)
    if when > now:
        raise TransactionError("time", f"{when.isoformat()} is in the future")
    asset_ = str(asset or "").strip().upper()
    if kind_ in TRADE_KINDS:
        if not asset_:
            raise TransactionError("asset", "is required for a buy or sell")
        if asset_ not in {a.upper() for a in known_assets}:
            raise TransactionError("asset", f"unknown asset {asset_!r}; known: {', '.join(sorted(known_assets))}")
    else:
        if asset_ and asset_ != cash_asset.upper():
            raise TransactionError("asset", f"a {kind_} is in the cash asset {cash_asset}, got {asset_!r}")
        asset_ = cash_asset.upper()
    qty = _number("quantity", quantity, positive=True)
    if kind_ in TRADE_KINDS:
        px = _number("price", "" if price is None else price, positive=True)
    else:
        px = 1.0 if price in (None, "") else _number("price", price, positive=True)
        if px != 1.0:
            raise TransactionError("price", f"a {kind_} has price 1 (cash), got {px:g}")
    fee_ = 0.0 if fee in (None, "") else _number("fee", fee, positive=True, allow_zero=True)
    if kind_ in CASH_KINDS and fee_:
        raise TransactionError("fee", f"a {kind_} carries no fee (enter the fee as its own transaction)")
    note_ = str(note or "").strip()
    if len(note_) > MAX_NOTE:
        raise TransactionError("note", f"at most {MAX_NOTE} characters, got {len(note_)}")
    return Transaction(when, kind_, asset_, qty, px, fee_, note_, id)


def ordered(transactions) -> list[Transaction]:
    """Time order; on equal times cash in first, then buys, sells, fees, withdrawals (stable)."""
    rank = {"deposit": 0, "buy": 1, "sell": 2, "fee": 3, "withdraw": 4}
    return sorted(transactions, key=lambda t: (t.time, rank[t.kind]))


def ledger_problems(transactions, *, allow_short: bool = False) -> list[tuple[Transaction, str, str]]:
    """Replay in time order; ``(transaction, field, message)`` for each sell of more than is held
    (without ``allow_short``) and each withdrawal or fee of more cash than there is."""
    held: dict[str, float] = {}
    cash = 0.0
    problems = []
    for t in ordered(transactions):
        if t.kind == "sell" and not allow_short and t.quantity > held.get(t.asset, 0.0) + EPS:
            problems.append((t, "quantity", f"sells {t.quantity:g} {t.asset} but only "
                                            f"{held.get(t.asset, 0.0):g} is held at {t.time.isoformat()}"))
            continue
        if t.kind in ("withdraw", "fee") and t.quantity > cash + EPS:
            problems.append((t, "quantity", f"{t.kind} of {t.quantity:g} but the cash balance is "
                                            f"{cash:g} at {t.time.isoformat()}"))
            continue
        if t.kind == "buy":
            held[t.asset] = held.get(t.asset, 0.0) + t.quantity
        elif t.kind == "sell":
            held[t.asset] = held.get(t.asset, 0.0) - t.quantity
        cash += t.cash_delta
    return problems


def check_ledger(transactions, *, allow_short: bool = False) -> None:
    """Raise :class:`TransactionError` when the ledger (the stored one with a change applied: an
    added, edited or deleted transaction) sells or withdraws what is not there. The stored ledger
    always passed, so a problem is the change's."""
    for _, field, message in ledger_problems(transactions, allow_short=allow_short):
        raise TransactionError(field, message)


def replace_in(existing, updated: Transaction) -> list[Transaction]:
    """The ledger with ``updated`` in place of the transaction of the same id."""
    return [updated if t.id == updated.id else t for t in existing]


def parse_csv(text: str | bytes, *, known_assets, cash_asset: str = DEFAULT_CASH, existing=(),
              partial: bool = False, allow_short: bool = False, now: datetime | None = None
              ) -> tuple[list[Transaction], list[tuple[int, str]]]:
    """Parse and validate a transactions CSV against the ``existing`` ledger.

    Returns ``(transactions, errors)``. Without ``partial`` any error raises
    :class:`TransactionFileError` (nothing to write); with it the good rows come back and ``errors``
    lists the dropped lines. Problems with the file itself (encoding, header) always raise.
    """
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise TransactionFileError([(1, "the file is not UTF-8 text")]) from None
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff")))
    try:
        header = next(reader)
    except StopIteration:
        raise TransactionFileError([(1, "the file is empty")]) from None
    except csv.Error as exc:
        raise TransactionFileError([(1, f"malformed CSV: {exc}")]) from None
    names = [h.strip().lower() for h in header]
    missing = [c for c in REQUIRED_COLUMNS if c not in names]
    if missing:
        raise TransactionFileError([(1, f"missing column(s) {', '.join(missing)}; expected "
                                        f"{','.join(CSV_COLUMNS)}")])
    col = {c: names.index(c) for c in CSV_COLUMNS if c in names}
    good: list[tuple[int, Transaction]] = []
    errors: list[tuple[int, str]] = []
    line = 1
    try:
        for row in reader:
            line = reader.line_num
            if not any(cell.strip() for cell in row):
                continue
            if len(row) != len(names):
                errors.append((line, f"has {len(row)} fields, the header has {len(names)}"))
                continue
            if len(good) + len(errors) >= MAX_ROWS:
                raise TransactionFileError([(line, f"more than {MAX_ROWS} rows")])
            fields = {c: row[i] for c, i in col.items()}
            try:
                good.append((line, make_transaction(known_assets=known_assets, cash_asset=cash_asset, now=now,
                                                    **fields)))
            except TransactionError as exc:
                errors.append((line, str(exc)))
    except csv.Error as exc:
        errors.append((reader.line_num or line, f"malformed CSV: {exc}"))
    lines = {id(t): n for n, t in good}
    bad = {id(t): (f, m) for t, f, m in ledger_problems(list(existing) + [t for _, t in good],
                                                         allow_short=allow_short) if id(t) in lines}
    errors += [(lines[k], f"{f}: {m}") for k, (f, m) in bad.items()]
    errors.sort()
    if not good and not errors:
        raise TransactionFileError([(1, "the file has no rows")])
    if errors and not partial:
        raise TransactionFileError(errors)
    kept = [t for _, t in good if id(t) not in bad]
    if partial and bad:      # dropping a row can break a later one (a sell of a dropped buy)
        again = {id(t) for t, _, _ in ledger_problems(list(existing) + kept, allow_short=allow_short)}
        if again:
            errors += [(lines[id(t)], "depends on a dropped line") for t in kept if id(t) in again]
            errors.sort()
            kept = [t for t in kept if id(t) not in again]
    return kept, errors


def to_csv(transactions) -> str:
    """The transactions as CSV in the import format (round-trips through :func:`parse_csv`)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for t in ordered(transactions):
        writer.writerow([t.time.isoformat(), t.kind, t.asset, repr(t.quantity), repr(t.price), repr(t.fee), t.note])
    return out.getvalue()


def with_id(t: Transaction, id_: int) -> Transaction:
    return replace(t, id=id_)
