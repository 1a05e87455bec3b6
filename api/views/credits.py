"""Credits of the organisation this month."""

from __future__ import annotations

from flask.views import MethodView

from api.auth import current_principal, requires
from api.blueprint import Blueprint
from api.schemas import CreditsSchema
from common.credits.service import credits

blp = Blueprint(
    "credits", __name__, url_prefix="/v1/credits", description="Page credits this month."
)


@blp.route("")
class Credits(MethodView):
    @requires("settings:read")
    @blp.response(200, CreditsSchema)
    def get(self):
        """The plan, its monthly page allotment, and the pages left of it and of top-ups.
        Live uploads take one credit per page; test mode never takes any."""
        return credits(current_principal())
