"""The review web app: server-rendered pages for members, and the offline API reference.

Every asset is served by Invex itself (no CDN, no build step). `register` adds the
blueprint to the API's Flask app; the app's pages accept member sessions only, as the API
accepts API keys only.
"""

from __future__ import annotations

from flask import Flask

from common.config import Settings


def register(app: Flask, settings: Settings) -> None:
    # The view modules attach their routes to the blueprint when imported.
    from web import account, docs, inbox, invoice_page, upload  # noqa: F401, PLC0415
    from web import settings as settings_pages  # noqa: F401, PLC0415
    from web.auth import SETTINGS  # noqa: PLC0415
    from web.blueprint import blp  # noqa: PLC0415

    app.extensions[SETTINGS] = settings
    app.register_blueprint(blp)
