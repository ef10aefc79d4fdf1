"""SQLAlchemy models, one module per aggregate. Importing this package registers them all."""
from app.models.alert import AlertAttempt, AlertCursor, AlertDelivery, AlertEvent, AlertRule, NotificationSettings
from app.models.api_token import ApiToken
from app.models.audit import AuditEvent
from app.models.backtest import Backtest, BacktestTrade
from app.models.chart import ChartLayout
from app.models.market import Candle, Series
from app.models.ml import Prediction
from app.models.portfolio import PaperFill, PaperOrder, PaperStrategy, PortfolioTransaction
from app.models.signal import SignalQualityReport, SignalRecord
from app.models.session import UserSession
from app.models.user import ROLES, User
from app.models.watchlist import WatchedMarket

__all__ = ["ApiToken", "AuditEvent", "AlertAttempt", "AlertCursor", "AlertDelivery", "AlertEvent", "AlertRule", "NotificationSettings", "Backtest", "BacktestTrade", "Candle", "ChartLayout", "Prediction", "PaperFill", "PaperOrder", "PaperStrategy", "PortfolioTransaction", "Series", "SignalRecord", "SignalQualityReport", "User", "UserSession", "ROLES", "WatchedMarket"]
