"""Usage of the current month."""

from __future__ import annotations

from flask.views import MethodView

from api.auth import current_principal, requires
from api.blueprint import Blueprint
from api.schemas import UsageSchema
from common.usage.service import usage

blp = Blueprint("usage", __name__, url_prefix="/v1/usage", description="Usage this month.")


@blp.route("")
class Usage(MethodView):
    @requires("settings:read")
    @blp.response(200, UsageSchema)
    def get(self):
        """Invoices, pages and API calls this month, and per field how many extracted
        invoices people corrected (`share` of this month's extracted invoices)."""
        return usage(current_principal())
