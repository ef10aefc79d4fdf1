"""Market data: exchange sources, validation, resampling, gaps, candle storage and the read side.

Modules: ``sources/`` (binance, coinbase, kraken, demo), ``validate``, ``resample``, ``gaps``,
``store`` and ``bulk`` (storage), ``ingest`` (refresh/backfill one series), ``query`` (what pages
read), ``ticker``, ``seed`` and ``csv_import`` (files), ``cli`` (``flask candles``). The vocabulary
every layer shares (timeframes, symbols, the checked candle frame) is ``app.marketdata``.
"""
