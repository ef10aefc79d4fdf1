"""Finding 6: look-alike symbols (Cyrillic, full-width) are not valid symbols."""
import pytest

from app.marketdata import validate_symbol


@pytest.mark.parametrize("symbol", ["ВТС/USDT", "BTC/USDТ", "ＢＴＣ/USDT", "BTC/ＵＳＤＴ", "BTC²/USDT", "ΒTC/USDT", "BTC٣/USDT"])
def test_finding_9_non_ascii_lookalike_symbols_are_refused(symbol):
    with pytest.raises(ValueError, match="ASCII"):
        validate_symbol(symbol)


def test_ascii_symbols_still_pass():
    assert validate_symbol(" btc/usdt ") == "BTC/USDT"
    assert validate_symbol("1INCH/USDT") == "1INCH/USDT"
