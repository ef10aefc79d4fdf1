"""The demo accounts that embedded/demo mode creates (``flask demo seed`` in ``workers/cli.py`` calls this)."""
from __future__ import annotations

import json
import os
import secrets

from app.auth.users import create_user
from app.extensions import db
from app.models.user import User
from app.settings import ROOT

CREDENTIALS_FILE = ROOT / "var" / "demo-credentials.json"
DEMO_USERS = (("admin@candlewise.local", "admin"), ("trader@candlewise.local", "trader"))


def ensure_demo_users() -> dict[str, str]:
    """Create the demo admin and trader once, with random passwords kept in var/ (mode 600)."""
    saved = json.loads(CREDENTIALS_FILE.read_text()) if CREDENTIALS_FILE.exists() else {}
    for email, role in DEMO_USERS:
        user = db.session.scalar(db.select(User).filter_by(email=email))
        if user is None:
            password = saved.get(email) or secrets.token_urlsafe(12)
            create_user(email, password, role=role)
            saved[email] = password
    CREDENTIALS_FILE.parent.mkdir(parents=True, exist_ok=True)
    CREDENTIALS_FILE.write_text(json.dumps(saved, indent=2))
    os.chmod(CREDENTIALS_FILE, 0o600)
    return saved
