"""Absolute links (mail, feeds, exports), built on the configured public address (PUBLIC_URL).

Never on the request's Host header: a forged Host would otherwise put a valid
password-reset token on an attacker's site. The same code serves pages, commands
and the worker, none of which needs a request.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import current_app


def public_url(endpoint: str, **values) -> str:
    base = urlsplit(current_app.config["PUBLIC_URL"])
    adapter = current_app.url_map.bind(base.netloc, script_name=base.path or "/", url_scheme=base.scheme)
    return adapter.build(endpoint, values, force_external=True)
