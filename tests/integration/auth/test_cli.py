"""`flask users create/list/deactivate` and `flask demo seed`."""
import json

from tests.conftest import login


def test_create_admin_then_login(server, client):
    runner = server.test_cli_runner()
    result = runner.invoke(args=["users", "create", "Boss@Example.com", "--admin", "--password", "long-enough-pw"])
    assert result.exit_code == 0 and "created admin boss@example.com" in result.output
    listing = runner.invoke(args=["users", "list"])
    assert "boss@example.com\tadmin\tactive" in listing.output
    assert login(client, "boss@example.com", "long-enough-pw").status_code == 302


def test_create_refuses_bad_input_clearly(server):
    runner = server.test_cli_runner()
    short = runner.invoke(args=["users", "create", "a@example.com", "--password", "short"])
    assert short.exit_code != 0 and "at least 10 characters" in short.output
    bad_email = runner.invoke(args=["users", "create", "not-an-email", "--password", "long-enough-pw"])
    assert bad_email.exit_code != 0 and "not a valid e-mail" in bad_email.output
    runner.invoke(args=["users", "create", "a@example.com", "--password", "long-enough-pw"])
    dup = runner.invoke(args=["users", "create", "A@example.com", "--password", "long-enough-pw"])
    assert dup.exit_code != 0 and "already exists" in dup.output


def test_deactivate_blocks_login(server, client):
    runner = server.test_cli_runner()
    runner.invoke(args=["users", "create", "t@example.com", "--password", "long-enough-pw"])
    assert runner.invoke(args=["users", "deactivate", "t@example.com"]).exit_code == 0
    resp = login(client, "t@example.com", "long-enough-pw")
    assert resp.status_code == 401 and b"deactivated" in resp.data


def test_demo_seed_creates_users_and_demo_market(tmp_path, monkeypatch):
    from app.server import create_server
    from app import demo
    from tests.conftest import make_settings, migrate_app

    monkeypatch.setattr(demo, "CREDENTIALS_FILE", tmp_path / "creds.json")
    app = create_server(make_settings(tmp_path, create_demo_users=True, demo_days=2))
    migrate_app(app)
    result = app.test_cli_runner().invoke(args=["demo", "seed"])
    assert result.exit_code == 0, result.output
    assert "OFFLINE DEMO DATA (synthetic)" in result.output
    assert "Signals computed for BTC/USDT, ETH/USDT." in result.output
    from app.analysis import reads
    from app.extensions import db

    with app.app_context():
        snaps = reads.snapshots(db.session.connection(), None, {"BTC/USDT": "demo", "ETH/USDT": "demo"})
    assert set(snaps) == {"BTC/USDT", "ETH/USDT"} and all(v is not None for v in snaps.values())
    creds = json.loads((tmp_path / "creds.json").read_text())
    assert set(creds) == {"admin@candlewise.local", "trader@candlewise.local"}
    assert (tmp_path / "creds.json").stat().st_mode & 0o077 == 0
    c = app.test_client()
    assert login(c, "admin@candlewise.local", creds["admin@candlewise.local"]).status_code == 302
    again = app.test_cli_runner().invoke(args=["demo", "seed"])
    assert "0 rows written" in again.output  # current demo data is not regenerated


def test_reset_password_prints_a_one_time_password_that_must_be_changed(server, client):
    runner = server.test_cli_runner()
    runner.invoke(args=["users", "create", "t@example.com", "--password", "long-enough-pw"])
    result = runner.invoke(args=["users", "reset-password", "T@example.com"])
    assert result.exit_code == 0 and "one-time password for t@example.com: " in result.output
    one_time = result.output.split(": ", 1)[1].splitlines()[0].strip()
    assert login(client, "t@example.com", "long-enough-pw").status_code == 401
    assert login(client, "t@example.com", one_time).status_code == 302
    assert client.get("/account/tokens").headers["Location"] == "/account/password?next=%2Faccount%2Ftokens"
    missing = runner.invoke(args=["users", "reset-password", "nobody@example.com"])
    assert missing.exit_code != 0 and "no user with e-mail" in missing.output


def test_create_with_a_one_time_password_prints_it_once_and_forces_a_change(server, client):
    runner = server.test_cli_runner()
    result = runner.invoke(args=["users", "create", "New@example.com", "--one-time"])
    assert result.exit_code == 0 and "created trader new@example.com" in result.output, result.output
    one_time = result.output.split("one-time password: ", 1)[1].splitlines()[0].strip()
    assert login(client, "new@example.com", one_time).status_code == 302
    assert client.get("/account/tokens").headers["Location"].startswith("/account/password")
    both = runner.invoke(args=["users", "create", "x@example.com", "--one-time", "--password", "long-enough-pw"])
    assert both.exit_code != 0 and "leave --password out" in both.output
    prompted = runner.invoke(args=["users", "create", "p@example.com"], input="long-enough-pw\nlong-enough-pw\n")
    assert prompted.exit_code == 0 and "created trader p@example.com" in prompted.output
    assert login(server.test_client(), "p@example.com", "long-enough-pw").status_code == 302
