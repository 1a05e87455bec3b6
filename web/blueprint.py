"""The web app's blueprint: its templates, and its static files under /assets."""

from __future__ import annotations

from flask import Blueprint

blp = Blueprint(
    "web",
    __name__,
    template_folder="templates",
    static_folder="static",
    static_url_path="/assets",
)
