"""app.mlops.service: the registry comes from settings; an empty registry has no rows to show."""
from app.mlops.service import model_rows, registry
from tests.conftest import make_settings


def test_registry_lives_at_the_configured_model_dir(tmp_path):
    reg = registry(make_settings(tmp_path))
    assert str(reg.root) == str(tmp_path / "models")
    assert model_rows(reg, ("BTC/USDT",), ("1h", "5m")) == []
