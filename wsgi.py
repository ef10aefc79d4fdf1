"""WSGI entry point: ``gunicorn wsgi:server`` and ``flask --app wsgi:server ...``."""
from app import create_app

app = create_app()
server = app.server
