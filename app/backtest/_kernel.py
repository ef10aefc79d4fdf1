"""The compiled hot loop of the backtest engine (numba, cached on disk).

One pass over ``n`` bars for ``m`` symbols sharing one cash balance. No
Python objects per bar: state lives in small NumPy arrays and trades are
written to a float64 record buffer of ``max_trades`` rows (an entry needs a
change of target, so counting the changes bounds it).

The loop records the state (cash and quantities) after each bar where it
changed and ``_mark`` fills equity and sides for every bar afterwards. With a
single symbol it also jumps over bars where nothing can happen: flat bars until
the target changes, and held bars up to the next change of target, funding
charge or stop / take-profit in range, found by ``_scan_long``/``_scan_short``
reading only highs and lows. What the loop reads at the next change is
prefetched (``app.backtest._prefetch``) instead of streaming whole arrays.

Order of events inside bar ``i`` (see ``engine`` docs):

1. funding for the positions carried into the bar, charged on ``qty * open``;
2. liquidation at the open: an account already at or below its maintenance
   requirement at the open (the price went through the level between bars, or
   funding drained it) is liquidated at the open and the run stops;
3. for each symbol, the target decided at the close of bar ``i-1`` is executed
   at the open of bar ``i`` (close and/or open a position, taker fee, slippage);
4. for each symbol, stop-loss / trailing stop / take-profit are checked against
   the bar's low/high; with one open position its liquidation level is one more
   adverse level, and the adverse level nearest to the open hits first. If a
   stop and the take-profit could both have triggered, the stop is assumed to
   have come first (the conservative rule). A bar that opens beyond a level
   fills at the open, not at the level. With several open positions the
   account is checked after the stops, with every price moving from its open
   toward its adverse extreme together; a liquidation closes everything and
   stops the run;
5. the trailing reference is updated with the bar's extreme, so a trailing
   level never uses the high/low of the bar it is checked against;
6. equity is marked at the close.
"""
from __future__ import annotations

import numpy as np
from numba import njit

from app.backtest._fastpath import _mark, _prefetch_bar, _quiet_run
from app.backtest._prefetch import prefetch


# record columns
R_SYM, R_SIDE, R_QTY, R_ENTRY_I, R_ENTRY_PX, R_EXIT_I, R_EXIT_PX = 0, 1, 2, 3, 4, 5, 6
R_ENTRY_FEE, R_EXIT_FEE, R_SLIP, R_FUNDING, R_PNL, R_REASON = 7, 8, 9, 10, 11, 12
N_FIELDS = 13
REASONS = ("signal", "stop_loss", "take_profit", "trailing_stop", "end_of_data", "open", "liquidation")
SIZE_EQUITY_FRACTION, SIZE_FIXED_CASH, SIZE_VOL_TARGET = 0, 1, 2


@njit(cache=True, nogil=True, error_model="numpy")
def _push(rec, k, j, side, qty, ei, epx, xi, xpx, efee, xfee, slip, funding, reason):
    if k >= rec.shape[0]:   # cannot happen (see max_trades); never write out of bounds.
        return              # the caller sees k > len(records) and raises (a raise here costs speed)
    rec[k, 0] = j
    rec[k, 1] = side
    rec[k, 2] = qty
    rec[k, 3] = ei
    rec[k, 4] = epx
    rec[k, 5] = xi
    rec[k, 6] = xpx
    rec[k, 7] = efee
    rec[k, 8] = xfee
    rec[k, 9] = slip
    rec[k, 10] = funding
    rec[k, 11] = side * qty * (xpx - epx) - efee - xfee - funding
    rec[k, 12] = reason


@njit(cache=True, nogil=True, error_model="numpy")
def _vol_scale_at(log_close, i, j, lookback, scale, target_vol):
    """min(1, target / realised vol) from the log returns of bars i-lookback .. i-1
    (computed only when an order is placed, so it costs nothing per bar)."""
    if i < lookback + 1:
        return np.nan
    mean = (log_close[i - 1, j] - log_close[i - 1 - lookback, j]) / lookback
    # four partial sums: independent dependency chains (an order is placed rarely,
    # but each costs a lookback-long chain of additions otherwise)
    a0 = a1 = a2 = a3 = 0.0
    t = i - lookback
    prev = log_close[t - 1, j]
    while t + 3 < i:
        x0 = log_close[t, j]
        x1 = log_close[t + 1, j]
        x2 = log_close[t + 2, j]
        x3 = log_close[t + 3, j]
        d0 = x0 - prev - mean
        d1 = x1 - x0 - mean
        d2 = x2 - x1 - mean
        d3 = x3 - x2 - mean
        a0 += d0 * d0
        a1 += d1 * d1
        a2 += d2 * d2
        a3 += d3 * d3
        prev = x3
        t += 4
    while t < i:
        x0 = log_close[t, j]
        d0 = x0 - prev - mean
        a0 += d0 * d0
        prev = x0
        t += 1
    acc = (a0 + a1) + (a2 + a3)
    if acc <= 0.0:
        return np.nan
    return min(1.0, target_vol / (np.sqrt(acc / (lookback - 1)) * scale))


@njit(cache=True, nogil=True, error_model="numpy")
def liquidation_level(cash, q, mm):
    """The price at which an account holding one position (signed quantity ``q``, the
    rest in ``cash``) meets its maintenance requirement: equity ``cash + q * p`` falls
    to ``mm * |q| * p`` for a short, to zero for a long. A short is liquidated when the
    price rises to the level, a long when it falls to it; +-inf when it cannot happen
    (a long paid for in cash)."""
    if q < 0.0:
        return cash / (-q * (1.0 + mm))
    if q > 0.0 and cash < 0.0:
        return -cash / q
    return -np.inf if q > 0.0 else np.inf


@njit(cache=True, nogil=True, error_model="numpy")
def _exit(rec, k, j, q, base, s, fee_rate, i, e_i, e_px, e_fee, e_slip, fund, reason):
    """Close position ``j`` (signed ``q``) at ``base`` moved against us by ``s``; record
    the trade; return the cash it brings in."""
    side = 1.0 if q > 0 else -1.0
    a = abs(q)
    px = base * (1.0 - side * s)
    fee = a * px * fee_rate
    _push(rec, k, float(j), side, a, e_i[j], e_px[j], float(i), px, e_fee[j], fee, a * base * s + e_slip[j],
          fund[j], reason)
    return q * px - fee


@njit(cache=True, nogil=True, error_model="numpy")
def simulate(open_, high, low, close, target, slip, weight, funding_bar, funding_rate, size_mode,
             taker, maker, sl, tp, ts, initial_cash, qty_step, close_at_end,
             log_close, vol_lookback, vol_scale, target_vol, chg, n_changes, mm, equity, positions):
    """Run the simulation. Arrays are (n, m) float64 except ``target`` (int8)
    ``sl``/``tp``/``ts`` are NaN when off.

    ``slip`` and ``weight`` may have a single row, then used for every bar.
    With ``size_mode == SIZE_VOL_TARGET`` the weight is scaled by
    ``min(1, target_vol / realised)``, realised being the annualised
    (``vol_scale``) standard deviation of the ``vol_lookback`` log returns of
    ``log_close`` up to bar i-1; no entry before that much history exists.

    Funding is sparse: ``funding_rate[f]`` is charged at the open of bar
    ``funding_bar[f]`` (ascending); empty arrays when off.

    ``chg``: ascending rows i >= 1 where any symbol's target differs from row
    i-1; ``n_changes``: the number of (row, symbol) changes (``target_changes``).

    ``mm``: maintenance margin, a fraction of the notional of open shorts that
    equity must cover (0: equity must stay above zero). See ``RUIN_RULE``.

    ``equity`` (n,) float64 and ``positions`` (n, m) int8 are filled (the caller
    allocates them, so a grid reuses one pair per thread).

    Returns (equity (n,), sides (n, m) int8 position side at each close,
    records (k, N_FIELDS), k, ruin bar or -1, shortfall) — k larger than the
    records means a buffer was too small; the shortfall is the loss beyond the
    account's equity at a liquidation (not carried: equity is floored at zero).

    The loop records the state (cash, quantities) after every bar where it
    changed; ``_mark`` then fills equity and sides for all bars in one pass.
    With one symbol, bars where nothing can happen are skipped (``_quiet_run``).
    """
    n, m = open_.shape
    slip_rows = slip.shape[0] > 1
    weight_rows = weight.shape[0] > 1
    n_chg = chg.shape[0]
    high_1 = high.reshape(n * m)      # 1-d views for the single-symbol scan
    low_1 = low.reshape(n * m)
    # every trade needs an entry and every entry a change of target (a stop-out
    # waits for one), so changes + one per symbol bound the trade records; every
    # state change is an order, a stop or a funding charge
    max_trades = n_changes + m
    rec = np.empty((max_trades, N_FIELDS))
    k = 0
    n_fund = funding_bar.shape[0]
    max_ev = 2 * max_trades + n_fund + 1
    ev_bar = np.empty(max_ev, dtype=np.int64)
    ev_cash = np.empty(max_ev)
    ev_qty = np.empty((max_ev, m))
    n_ev = 0
    cash = initial_cash
    qty = np.zeros(m)            # signed quantity
    e_i = np.zeros(m)            # entry bar
    e_px = np.zeros(m)           # entry fill price
    e_fee = np.zeros(m)
    e_slip = np.zeros(m)
    fund = np.zeros(m)           # funding paid so far by the open trade
    ext = np.zeros(m)            # best price since entry (trailing reference)
    # exit levels: a long exits when low <= lower (stop) or high >= upper (take-profit),
    # a short when high >= upper (stop) or low <= lower (take-profit); +-inf when off
    lower = np.zeros(m)
    upper = np.zeros(m)
    trail_binds = np.zeros(m, dtype=np.bool_)
    stopped = np.zeros(m, dtype=np.int8)  # side stopped out; no re-entry while target stays there
    use_sl = not np.isnan(sl)
    use_tp = not np.isnan(tp)
    use_ts = not np.isnan(ts)
    use_stops = use_sl or use_tp or use_ts
    vol_mode = size_mode == SIZE_VOL_TARGET
    ruin_i = -1
    shortfall = 0.0

    fp = 0                       # next funding event
    cp = 0                       # next change of target
    i = 0
    while i < n:
        changed = i == 0
        ruined = False
        while fp < n_fund and funding_bar[fp] < i:   # skipped while flat
            fp += 1
        f_rate = 0.0
        if fp < n_fund and funding_bar[fp] == i:
            f_rate = funding_rate[fp]
            fp += 1
        # 1. funding on the positions carried into the bar
        n_open = 0
        only = 0
        for j in range(m):
            q = qty[j]
            if q != 0.0:
                n_open += 1
                only = j
                if f_rate != 0.0:
                    f = q * open_[i, j] * f_rate
                    cash -= f
                    fund[j] += f
                    changed = True
        # 2. liquidation at the open: the price went through the level between two bars
        if n_open > 0:
            if n_open == 1:
                q = qty[only]
                lvl = liquidation_level(cash, q, mm)
                hit = open_[i, only] >= lvl if q < 0.0 else open_[i, only] <= lvl
            else:
                f0 = cash
                for j in range(m):
                    q = qty[j]
                    if q != 0.0:
                        o = open_[i, j]
                        f0 += q * o
                        if q < 0.0:
                            f0 += mm * q * o
                hit = f0 <= 0.0
            if hit:
                for j in range(m):
                    q = qty[j]
                    if q != 0.0:
                        cash += _exit(rec, k, j, q, open_[i, j], slip[i if slip_rows else 0, j], taker, i,
                                      e_i, e_px, e_fee, e_slip, fund, 6.0)
                        k += 1
                        qty[j] = 0.0
                ruined = True
        # 3. orders decided at the previous close, at this open
        if not ruined:
            for j in range(m):
                o = open_[i, j]
                q = qty[j]
                side = 0
                if q > 0:
                    side = 1
                elif q < 0:
                    side = -1
                desired = 0
                if i > 0:
                    desired = target[i - 1, j]
                if stopped[j] != 0:
                    if desired == stopped[j]:
                        desired = 0
                    else:
                        stopped[j] = 0
                if desired == side:
                    continue
                s = slip[i if slip_rows else 0, j]
                if side != 0:
                    cash += _exit(rec, k, j, q, o, s, taker, i, e_i, e_px, e_fee, e_slip, fund, 0.0)
                    k += 1
                    qty[j] = 0.0
                    changed = True
                w = weight[i if weight_rows else 0, j]
                if desired != 0 and vol_mode:
                    w = w * _vol_scale_at(log_close, i, j, vol_lookback, vol_scale, target_vol)
                if desired != 0 and not np.isnan(w):
                    px = o * (1.0 + desired * s)
                    if size_mode == SIZE_FIXED_CASH:
                        notional = w
                    else:
                        eq = cash
                        for jj in range(m):
                            eq += qty[jj] * open_[i, jj]
                        notional = w * eq
                    if desired > 0 and notional > cash:
                        notional = cash
                    new_q = notional / (px * (1.0 + taker)) if notional > 0 else 0.0
                    if qty_step > 0.0:
                        new_q = np.floor(new_q / qty_step + 1e-9) * qty_step
                    if new_q > 0.0:
                        fee = new_q * px * taker
                        cash -= desired * new_q * px + fee
                        qty[j] = desired * new_q
                        e_i[j] = i
                        e_px[j] = px
                        e_fee[j] = fee
                        e_slip[j] = new_q * o * s
                        fund[j] = 0.0
                        ext[j] = px
                        changed = True
                        far = np.inf * desired            # a level that is never reached
                        lvl = px * (1.0 - desired * sl) if use_sl else -far
                        trail_binds[j] = False
                        if use_ts:
                            t_px = px * (1.0 - desired * ts)
                            if desired * (t_px - lvl) > 0:
                                lvl = t_px
                                trail_binds[j] = True
                        tp_px = px * (1.0 + desired * tp) if use_tp else far
                        if desired > 0:
                            lower[j] = lvl
                            upper[j] = tp_px
                        else:
                            lower[j] = tp_px
                            upper[j] = lvl
        # 4. inside the bar: stops, take-profits and (one position) the liquidation level,
        #    the adverse level nearest to the open first
        if not ruined:
            n_open = 0
            for j in range(m):
                if qty[j] != 0.0:
                    n_open += 1
            for j in range(m):
                q = qty[j]
                if q == 0.0:
                    continue
                side = 1 if q > 0 else -1
                lo_j = lower[j]
                hi_j = upper[j]
                liq_binds = False
                if n_open == 1:
                    lvl = liquidation_level(cash, q, mm)
                    if side > 0 and lvl > lo_j:
                        lo_j = lvl
                        liq_binds = True
                    elif side < 0 and lvl < hi_j:
                        hi_j = lvl
                        liq_binds = True
                if not (use_stops or liq_binds):
                    continue
                h = high[i, j]
                lo = low[i, j]
                if lo <= lo_j or h >= hi_j:
                    o = open_[i, j]
                    if side > 0:
                        stop_px = lo_j
                        tp_px = hi_j
                        hit_stop = lo <= stop_px
                    else:
                        stop_px = hi_j
                        tp_px = lo_j
                        hit_stop = h >= stop_px
                    if hit_stop:   # the stop first, even when the take-profit was also in range
                        base = stop_px
                        if side * (o - stop_px) <= 0:   # opened through the stop: fill at the open
                            base = o
                        s = slip[i if slip_rows else 0, j]
                        fee_rate = taker
                        reason = 6.0 if liq_binds else (3.0 if trail_binds[j] else 1.0)
                    else:
                        base = tp_px
                        if side * (o - tp_px) >= 0:     # gapped through the target: the open is better
                            base = o
                        s = 0.0
                        fee_rate = maker
                        reason = 2.0
                    cash += _exit(rec, k, j, q, base, s, fee_rate, i, e_i, e_px, e_fee, e_slip, fund, reason)
                    k += 1
                    qty[j] = 0.0
                    stopped[j] = side
                    changed = True
                    if reason == 6.0:
                        ruined = True
                elif use_ts:   # trail from this bar's extreme, effective from the next bar
                    if side > 0:
                        if h > ext[j]:
                            ext[j] = h
                            t_px = h * (1.0 - ts)
                            if t_px > lower[j]:
                                lower[j] = t_px
                                trail_binds[j] = True
                    elif lo < ext[j]:
                        ext[j] = lo
                        t_px = lo * (1.0 + ts)
                        if t_px < upper[j]:
                            upper[j] = t_px
                            trail_binds[j] = True
            # several positions: every price is assumed to move from its open toward its
            # adverse extreme together; equity minus the requirement is linear along that path
            if n_open > 1 and not ruined:
                f0 = cash
                f1 = 0.0
                for j in range(m):
                    q = qty[j]
                    if q != 0.0:
                        o = open_[i, j]
                        d = (low[i, j] if q > 0 else high[i, j]) - o
                        f0 += q * o
                        f1 += q * d
                        if q < 0.0:
                            f0 += mm * q * o
                            f1 += mm * q * d
                if f0 + f1 <= 0.0:
                    lam = 0.0 if f0 <= 0.0 else min(1.0, -f0 / f1)
                    for j in range(m):
                        q = qty[j]
                        if q != 0.0:
                            o = open_[i, j]
                            x = low[i, j] if q > 0 else high[i, j]
                            cash += _exit(rec, k, j, q, o + lam * (x - o), slip[i if slip_rows else 0, j], taker,
                                          i, e_i, e_px, e_fee, e_slip, fund, 6.0)
                            k += 1
                            qty[j] = 0.0
                    ruined = True
        if ruined:
            if cash < 0.0:       # the loss beyond the account's equity is not carried
                shortfall = -cash
                cash = 0.0
            ruin_i = i
            changed = True
        if changed:
            if n_ev < max_ev:
                ev_bar[n_ev] = i
                ev_cash[n_ev] = cash
                for j in range(m):
                    ev_qty[n_ev, j] = qty[j]
            n_ev += 1
        if ruined:
            break                # the run stops, flat; equity stays at what is left
        i += 1
        if m == 1 and i < n:
            while cp < n_chg and chg[cp] < i - 1:
                cp += 1
            # the order decided at the close of change row chg[cp] executes at the next open
            next_change = chg[cp] + 1 if cp < n_chg else n
            while fp < n_fund and funding_bar[fp] < i:
                fp += 1
            next_funding = funding_bar[fp] if fp < n_fund else n
            # ask early for what the loop will read at the next two changes and funding
            _prefetch_bar(next_change, open_, high, low, slip, slip_rows, log_close, vol_mode, vol_lookback)
            if cp + 1 < n_chg:
                _prefetch_bar(chg[cp + 1] + 1, open_, high, low, slip, slip_rows, log_close, vol_mode,
                              vol_lookback)
            prefetch(open_, next_funding, 0)
            i = _quiet_run(i, next_change, next_funding, target, open_, high_1, low_1, qty[0], stopped[0],
                           lower, upper, ext, trail_binds, use_stops, use_ts, ts,
                           liquidation_level(cash, qty[0], mm))

    _mark(ev_bar, ev_cash, ev_qty, min(n_ev, max_ev), close, equity, positions)
    if n_ev > max_ev:       # cannot happen (see max_ev): report it as an overflow
        k = max_trades + 1

    # positions still open at the end
    i = n - 1
    for j in range(m):
        q = qty[j]
        if q == 0.0:
            continue
        c = close[i, j]
        if close_at_end:
            cash += _exit(rec, k, j, q, c, slip[i if slip_rows else 0, j], taker, i,
                          e_i, e_px, e_fee, e_slip, fund, 4.0)
            qty[j] = 0.0
            positions[i, j] = 0
        else:
            side = 1.0 if q > 0 else -1.0
            _push(rec, k, float(j), side, abs(q), e_i[j], e_px[j], float(i), c,
                  e_fee[j], 0.0, e_slip[j], fund[j], 5.0)
        k += 1
    if close_at_end and ruin_i < 0:
        equity[n - 1] = cash
    return equity, positions, rec[:min(k, max_trades)].copy(), k, ruin_i, shortfall


@njit(cache=True, nogil=True, error_model="numpy")
def funding_events(times_ns, interval_ns, rate):
    """(bars, rates) of every funding charge: at the open of bar i, ``rate`` times the
    number of funding timestamps (multiples of the interval) in (open[i-1], open[i]]."""
    n = times_ns.shape[0]
    bars = np.empty(n, dtype=np.int64)
    rates = np.empty(n)
    k = 0
    nxt = (times_ns[0] // interval_ns + 1) * interval_ns   # first funding time after bar 0 opens
    for i in range(1, n):
        t = times_ns[i]
        if t >= nxt:
            count = (t - nxt) // interval_ns + 1
            bars[k] = i
            rates[k] = count * rate
            k += 1
            nxt += count * interval_ns
    return bars[:k].copy(), rates[:k].copy()
