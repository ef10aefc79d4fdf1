"""Portfolio and paper trading (domain): transactions, holdings and P&L, equity, paper strategies
traded through the backtest engine, and their reconciliation against a backtest of the same bars."""
