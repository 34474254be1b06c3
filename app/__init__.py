"""The Flask platform 社保卡制发业务平台: create_app factory."""
from __future__ import annotations

import logging

from flask import Flask, g, request, session as http_session

from app.common.i18n import normalise_locale, set_locale

from . import config as config_module
from .database import make_session_factory, scoped
from .engine.db import make_engine
from .extensions import csrf, db_session, login_manager  # noqa: F401  (db_session: re-exported)
from .urls import register_converters

log = logging.getLogger(__name__)


class Platform:
    """What the app holds for the length of its life: DB engine, sessions, scheduler."""

    def __init__(self, app: Flask):
        self.engine = make_engine(app.config["DATABASE_URL"])
        self.session_factory = make_session_factory(self.engine)
        self.session = scoped(self.session_factory)
        self.families = []  # the procedure families (app.procedures), loaded once


def create_app(overrides: dict | None = None) -> Flask:
    app = Flask(__name__, instance_relative_config=False)
    app.config.update(config_module.load(overrides))
    platform = Platform(app)
    app.extensions["sscard"] = platform
    register_converters(app)  # <int:...> bounded to 64-bit ids, before any blueprint's rules

    csrf.init_app(app)
    from .security_headers import init_app as init_security_headers
    init_security_headers(app)  # CSP and co. on every response; Secure cookie over HTTPS
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = None

    # a session cookie signs in only while its server-side record is live (app.auth.sessions)
    from app.auth.sessions import load_user
    login_manager.user_loader(load_user)

    @app.before_request
    def choose_locale():
        # Chinese unless the user switched: a browser's Accept-Language is not a choice.
        lang = request.args.get("lang") or http_session.get("lang") or app.config["DEFAULT_LOCALE"]
        try:
            g.lang = normalise_locale(lang)
        except ValueError:
            g.lang = app.config["DEFAULT_LOCALE"]
        set_locale(g.lang)

    @app.teardown_appcontext
    def remove_session(_exc):
        platform.session.remove()

    # every family registers its tables, operations, forms and rounds (the scheduler and the
    # workers load the same list, plus SSCARD_ENGINE_PLUGINS)
    from app.wiring import configure_engine
    platform.families = configure_engine()  # and the engine's forms and calendar

    from app.web import register_web
    register_web(app)
    from app.api.errors import register_routing_errors
    register_routing_errors(app)  # an unknown /api/ URL (e.g. an id beyond 64 bits) answers JSON

    from app.cli import register_cli
    register_cli(app)
    return app
