"""The Flask extensions and the request's database session, importable by every blueprint
without importing the app factory (which imports the blueprints)."""
from __future__ import annotations

from flask import current_app
from flask_login import LoginManager
from flask_wtf.csrf import CSRFProtect

csrf = CSRFProtect()
login_manager = LoginManager()


def db_session():
    """The request's SQLAlchemy ``Session`` (the thread's one from the scoped registry; the
    engine's steps need the Session itself, e.g. ``in_transaction()``)."""
    return current_app.extensions["sscard"].session()
