"""flask-smorest's Blueprint with one extra argument location, `multipart`: the form
fields and the files of one multipart body, parsed and documented as a single schema (the
stock `files` and `form` locations cannot share one request body in the OpenAPI document);
and one schema instance per route's arguments."""

from __future__ import annotations

import functools
from typing import Any, ClassVar

import flask_smorest
import marshmallow
from webargs.flaskparser import FlaskParser
from webargs.multidictproxy import MultiDictProxy
from werkzeug.datastructures import CombinedMultiDict
from werkzeug.routing import BaseConverter, Map


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
        data = CombinedMultiDict([req.form, req.files])
        if _has_list_fields(schema):
            return MultiDictProxy(data, schema)
        # each name's first value, as MultiDictProxy gives for a field that is not a list,
        # at half the cost of loading through the proxy
        return data.to_dict()


@functools.cache
def _has_list_fields(schema: marshmallow.Schema) -> bool:
    """Whether webargs loads some field of `schema` as the list of a name's values (its
    own rule, asked once per schema: each route's schema is one instance)."""
    return bool(MultiDictProxy({}, schema).multiple_keys)


class Blueprint(flask_smorest.Blueprint):
    ARGUMENTS_PARSER = InvexParser()
    DEFAULT_LOCATION_CONTENT_TYPE_MAPPING: ClassVar[dict] = {
        **flask_smorest.Blueprint.DEFAULT_LOCATION_CONTENT_TYPE_MAPPING,
        "multipart": "multipart/form-data",
    }

    def arguments(self, schema: Any, *args: Any, **kwargs: Any):
        """As flask-smorest's, given a schema class or an instance. webargs makes a new
        instance of a class on every request it parses (a deep copy of every field: a
        tenth of an upload's time in the API process); an instance is made once, here, and
        shared, as flask-smorest shares its response schemas (loading keeps no state)."""
        if isinstance(schema, type) and issubclass(schema, marshmallow.Schema):
            schema = schema()
        return super().arguments(schema, *args, **kwargs)


class IdConverter(BaseConverter):
    """`<id(inv):invoice_id>`: the segment is an ID of that type, or the path is none of
    this route's (so POST /v1/invoices/extract is an unknown path, 404, not a 405 from the
    invoice route that only GETs, PATCHes and DELETEs)."""

    def __init__(self, url_map: Map, prefix: str) -> None:
        super().__init__(url_map)
        self.regex = rf"{prefix}_[^/]+"
