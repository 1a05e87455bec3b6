"""flask-smorest's Blueprint with one extra argument location, `multipart`: the form
fields and the files of one multipart body, parsed and documented as a single schema (the
stock `files` and `form` locations cannot share one request body in the OpenAPI document)."""

from __future__ import annotations

from typing import ClassVar

import flask_smorest
from webargs.flaskparser import FlaskParser
from webargs.multidictproxy import MultiDictProxy
from werkzeug.datastructures import CombinedMultiDict


class InvexParser(FlaskParser):
    __location_map__ = {  # noqa: RUF012 - overrides webargs' own class attribute
        **FlaskParser.__location_map__,
        "multipart": "load_multipart",
    }
    # None: the schema's own `unknown` (RAISE) decides, so a misspelt query parameter is a
    # 400 naming it rather than a filter silently ignored.
    DEFAULT_UNKNOWN_BY_LOCATION = {  # noqa: RUF012 - overrides webargs' own class attribute
        **FlaskParser.DEFAULT_UNKNOWN_BY_LOCATION,
        "query": None,
        "querystring": None,
        "multipart": None,
    }

    def load_multipart(self, req, schema):
        return MultiDictProxy(CombinedMultiDict([req.form, req.files]), schema)


class Blueprint(flask_smorest.Blueprint):
    ARGUMENTS_PARSER = InvexParser()
    DEFAULT_LOCATION_CONTENT_TYPE_MAPPING: ClassVar[dict] = {
        **flask_smorest.Blueprint.DEFAULT_LOCATION_CONTENT_TYPE_MAPPING,
        "multipart": "multipart/form-data",
    }
