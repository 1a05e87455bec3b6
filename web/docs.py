"""`/docs`: the API reference, rendered by Swagger UI from the `swagger-ui-bundle` package,
so it works with no Internet access."""

from __future__ import annotations

from flask import Response, abort, render_template, send_from_directory
from swagger_ui_bundle import swagger_ui_path

from web.blueprint import blp

# The files of the bundle the page loads; anything else in its directory is not served.
SWAGGER_ASSETS = frozenset(
    {
        "swagger-ui.css",
        "swagger-ui-bundle.js",
        "swagger-ui-standalone-preset.js",
        "favicon-32x32.png",
        "favicon-16x16.png",
    }
)


@blp.get("/docs")
def api_reference() -> str:
    return render_template("docs.html")


@blp.get("/docs/assets/<name>")
def swagger_asset(name: str) -> Response:
    if name not in SWAGGER_ASSETS:
        abort(404)
    return send_from_directory(str(swagger_ui_path), name, max_age=86400)
