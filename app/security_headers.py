"""Security headers 安全响应头 on every response (pages, photos, JSON, static files), the
session cookie's flags, and the reverse proxy's forwarded address and scheme when trusted.

* Content-Security-Policy: everything local (``default-src 'self'``; the pages have no inline
  script or style, no frames, no plug-ins), and no framing (``frame-ancestors 'none'``, with
  ``X-Frame-Options: DENY`` for older browsers);
* ``X-Content-Type-Options: nosniff``; ``Referrer-Policy: same-origin`` (the language switch
  reads the referrer of the platform's own pages; nothing leaves for another site);
* the session cookie is HttpOnly and SameSite=Lax, and Secure whenever the request came over
  HTTPS (``SESSION_COOKIE_SECURE=True`` makes it always Secure);
* behind a reverse proxy, ``SSCARD_TRUSTED_PROXIES=N`` (or the ``TRUSTED_PROXIES`` setting)
  trusts the last N proxies' X-Forwarded-For/-Proto/-Host/-Port (werkzeug's ProxyFix): the
  client's address (sign-in throttling) and HTTPS (the Secure cookie) are then the real ones;
* ``SSCARD_HSTS_SECONDS`` (or ``HSTS_SECONDS``), when set, sends Strict-Transport-Security
  on HTTPS responses.

A view may set its own value of any of these headers; it is kept.
"""
from __future__ import annotations

import os

from flask import Flask, has_request_context, request
from flask.sessions import SecureCookieSessionInterface
from werkzeug.middleware.proxy_fix import ProxyFix

CSP = ("default-src 'self'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'; "
       "object-src 'none'")

HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
}


class SessionInterface(SecureCookieSessionInterface):
    """Flask's signed-cookie sessions, with the Secure flag on every HTTPS response."""

    def get_cookie_secure(self, app: Flask) -> bool:
        return bool(app.config.get("SESSION_COOKIE_SECURE")) or (has_request_context() and request.is_secure)


def _setting(app: Flask, name: str, env: str) -> int:
    value = app.config.get(name, os.environ.get(env, "0"))
    return int(value or 0)


def init_app(app: Flask) -> None:
    proxies = _setting(app, "TRUSTED_PROXIES", "SSCARD_TRUSTED_PROXIES")
    if proxies > 0:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies, x_port=proxies)
    app.session_interface = SessionInterface()
    app.config["SESSION_COOKIE_HTTPONLY"] = True
    if app.config.get("SESSION_COOKIE_SAMESITE") not in ("Lax", "Strict"):
        app.config["SESSION_COOKIE_SAMESITE"] = "Lax"
    hsts = _setting(app, "HSTS_SECONDS", "SSCARD_HSTS_SECONDS")

    @app.after_request
    def security_headers(response):
        for name, value in HEADERS.items():
            response.headers.setdefault(name, value)
        if hsts > 0 and request.is_secure:
            response.headers.setdefault("Strict-Transport-Security", f"max-age={hsts}")
        return response
