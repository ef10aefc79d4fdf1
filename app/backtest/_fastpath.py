"""Parts of the backtest kernel (``_kernel.simulate``) that make it fast.

* ``_quiet_run``: with a single symbol, the first bar from ``i`` on where
  anything can happen. Flat bars are jumped over up to the next change of
  target; held bars are scanned (``_scan_long`` / ``_scan_short``) for a stop
  or take-profit in range, reading highs and lows only, four bars per branch.
* ``_prefetch_bar``: asks the memory system early for what the main loop will
  read at a known future bar (the next changes of target).
* ``_mark``: equity at every close and the side held, filled in one pass from
  the state (cash, quantities) after each bar where it changed.

Each reproduces exactly what the general per-bar loop does; the unit tests
compare a single symbol with the same symbol inside a portfolio (general loop).
"""
from __future__ import annotations

import numpy as np
from numba import njit

from app.backtest._prefetch import prefetch


@njit(cache=True, nogil=True, error_model="numpy")
def _prefetch_bar(i, open_, high, low, slip, slip_rows, log_close, vol_mode, lookback):
    """Ask for what the main loop reads at bar ``i`` (single symbol)."""
    prefetch(open_, i, 0)
    prefetch(high, i, 0)
    prefetch(low, i, 0)
    if slip_rows:
        prefetch(slip, i, 0)
    if vol_mode:
        for t in range(i - lookback - 1, i + 1, 8):
            prefetch(log_close, t, 0)
        prefetch(log_close, i - 1, 0)


@njit(cache=True, nogil=True, error_model="numpy")
def _scan_long(high, low, open_, i, stop_at, lvl, hi_lvl, best, c):
    """First bar in [i, stop_at) where a long's stop (max(lvl, best * c), best the high
    up to the previous bar) or take-profit (hi_lvl) is in range, and the best high
    before it. Four bars per step with one branch; 1-d arrays, unsigned indices."""
    u = np.uint64(i)
    end = np.uint64(stop_at)
    while u + np.uint64(4) <= end:
        prefetch(open_, u + np.uint64(24), 0)   # read at the exit bar only, unpredictable
        h0, h1, h2, h3 = high[u], high[u + np.uint64(1)], high[u + np.uint64(2)], high[u + np.uint64(3)]
        b1 = max(best, h0)
        b2 = max(b1, h1)
        b3 = max(b2, h2)
        hit = ((low[u] <= max(lvl, best * c)) | (low[u + np.uint64(1)] <= max(lvl, b1 * c))
               | (low[u + np.uint64(2)] <= max(lvl, b2 * c)) | (low[u + np.uint64(3)] <= max(lvl, b3 * c))
               | (max(max(h0, h1), max(h2, h3)) >= hi_lvl))
        if hit:
            break
        best = max(b3, h3)
        u += np.uint64(4)
    while u < end:
        h = high[u]
        if low[u] <= max(lvl, best * c) or h >= hi_lvl:
            break
        best = max(best, h)
        u += np.uint64(1)
    return np.int64(u), best


@njit(cache=True, nogil=True, error_model="numpy")
def _scan_short(high, low, open_, i, stop_at, lo_lvl, lvl, best, c):
    """The mirror of ``_scan_long``: stop at min(lvl, best * c) above, take-profit lo_lvl below."""
    u = np.uint64(i)
    end = np.uint64(stop_at)
    while u + np.uint64(4) <= end:
        prefetch(open_, u + np.uint64(24), 0)
        l0, l1, l2, l3 = low[u], low[u + np.uint64(1)], low[u + np.uint64(2)], low[u + np.uint64(3)]
        b1 = min(best, l0)
        b2 = min(b1, l1)
        b3 = min(b2, l2)
        hit = ((high[u] >= min(lvl, best * c)) | (high[u + np.uint64(1)] >= min(lvl, b1 * c))
               | (high[u + np.uint64(2)] >= min(lvl, b2 * c)) | (high[u + np.uint64(3)] >= min(lvl, b3 * c))
               | (min(min(l0, l1), min(l2, l3)) <= lo_lvl))
        if hit:
            break
        best = min(b3, l3)
        u += np.uint64(4)
    while u < end:
        lo = low[u]
        if lo <= lo_lvl or high[u] >= min(lvl, best * c):
            break
        best = min(best, lo)
        u += np.uint64(1)
    return np.int64(u), best


@njit(cache=True, nogil=True, error_model="numpy")
def _quiet_run(i, next_change, next_funding, target, open_, high_1, low_1, q, stopped,
               lower, upper, ext, trail_binds, use_stops, use_ts, ts, liq):
    """Single-symbol fast path: the first bar from ``i`` on where anything can happen
    (an order, funding on a held position, a stop, take-profit or the liquidation level
    ``liq`` in range; the level is fixed while nothing happens). Bars
    skipped over need no work here: equity is filled afterwards from the state
    changes, and the trailing reference is updated exactly as the main loop would."""
    desired = target[i - 1, 0]
    if q == 0.0:   # flat (possibly waiting after a stop-out): nothing until the target changes
        if stopped != 0:
            return i if desired != stopped else next_change   # the main loop clears the memory
        return i if desired != 0 else next_change
    side = 1 if q > 0 else -1      # in a position the stop-out memory is always clear
    if desired != side:
        return i
    stop_at = min(next_change, next_funding)
    liq_on = liq > -np.inf if side > 0 else liq < np.inf
    if not (use_stops or liq_on):
        return stop_at
    lo_lvl, hi_lvl, best = lower[0], upper[0], ext[0]   # locals: no aliasing with the outputs
    # The trailing level after bar t is max(level at the start, best * (1 -/+ ts)) with
    # best the extreme up to bar t (multiplying by a positive constant is monotone in
    # floating point too), so the loop carries only the running extreme.
    if side > 0:
        c = 1.0 - ts if use_ts else 0.0
        i, best = _scan_long(high_1, low_1, open_, i, stop_at, max(lo_lvl, liq), hi_lvl, best, c)
        if use_ts:
            t_px = best * c
            if t_px > lo_lvl:
                lower[0] = t_px
                trail_binds[0] = True
    else:
        c = 1.0 + ts if use_ts else np.inf
        i, best = _scan_short(high_1, low_1, open_, i, stop_at, lo_lvl, min(hi_lvl, liq), best, c)
        if use_ts:
            t_px = best * c
            if t_px < hi_lvl:
                upper[0] = t_px
                trail_binds[0] = True
    ext[0] = best
    return i


@njit(cache=True, nogil=True, error_model="numpy")
def _mark(ev_bar, ev_cash, ev_qty, n_ev, close, equity, positions):
    """Equity at every close and the side held, from the state after each event bar
    (cash and quantities hold until the next event): cash + sum(qty * close)."""
    n, m = close.shape
    close_1 = close.reshape(n * m)     # views (C-contiguous arrays), used when m == 1
    side = positions.reshape(n * m)
    for s in range(n_ev):
        a = ev_bar[s]
        b = ev_bar[s + 1] if s + 1 < n_ev else n
        cash = ev_cash[s]
        if m == 1:   # 1-d views and unsigned bounds: no negative-index checks, vectorised
            q = ev_qty[s, 0]
            p = np.int8(1 if q > 0 else (-1 if q < 0 else 0))
            ua, ub = np.uint64(a), np.uint64(b)
            for i in range(ua, ub):
                side[i] = p
            if q != 0.0:
                for i in range(ua, ub):
                    equity[i] = cash + q * close_1[i]
            else:
                for i in range(ua, ub):
                    equity[i] = cash
            continue
        for i in range(a, b):
            eq = cash
            for j in range(m):
                q = ev_qty[s, j]
                if q != 0.0:
                    eq += q * close[i, j]
                    positions[i, j] = 1 if q > 0 else -1
                else:
                    positions[i, j] = 0
            equity[i] = eq
