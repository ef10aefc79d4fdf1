"""SQLAlchemy models, one module per aggregate. Importing this package registers them all."""
from app.models.alert import AlertAttempt, AlertDelivery, AlertEvent, AlertRule, NotificationSettings
from app.models.api_token import ApiToken
from app.models.audit import AuditEvent
from app.models.backtest import Backtest, BacktestTrade
from app.models.market import Candle, Series
from app.models.ml import Prediction
from app.models.portfolio import PaperFill, PaperOrder, PaperStrategy, PortfolioTransaction
from app.models.signal import SignalQualityReport, SignalRecord
from app.models.session import UserSession
from app.models.user import ROLES, User

__all__ = ["ApiToken", "AuditEvent", "AlertAttempt", "AlertDelivery", "AlertEvent", "AlertRule", "NotificationSettings", "Backtest", "BacktestTrade", "Candle", "Prediction", "PaperFill", "PaperOrder", "PaperStrategy", "PortfolioTransaction", "Series", "SignalRecord", "SignalQualityReport", "User", "UserSession", "ROLES"]
