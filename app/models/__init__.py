"""SQLAlchemy models, one module per aggregate. Importing this package registers them all."""
from app.models.api_token import ApiToken
from app.models.backtest import Backtest, BacktestTrade
from app.models.market import Candle, Series
from app.models.ml import Prediction
from app.models.signal import SignalQualityReport, SignalRecord
from app.models.session import UserSession
from app.models.user import ROLES, User

__all__ = ["ApiToken", "Backtest", "BacktestTrade", "Candle", "Prediction", "Series", "SignalRecord", "SignalQualityReport", "User", "UserSession", "ROLES"]
