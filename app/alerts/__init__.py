"""Alerts: rules evaluated on closed bars, events recorded once, delivered once per channel.

Modules: ``bars`` (the closed-bar inputs of one symbol and timeframe), one module per condition
concern (``price``, ``indicators``, ``events``, ``volume``, ``score``, ``lstm``), ``kinds`` (the
registry of rule kinds and their parameters), ``validate`` (rules and settings from a form),
``gating`` (frequency, cooldown, quiet hours, expiry, paused), ``evaluate`` (all rules of a symbol
in one pass), ``inputs`` and ``store`` (storage through a connection), ``delivery`` (the
exactly-once claim protocol), ``secrets`` (Fernet), ``ssrf`` (webhook targets) and ``channels/``.
"""
