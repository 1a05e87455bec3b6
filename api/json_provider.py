"""Flask's JSON answers written by orjson (common/fastjson.py), with Flask's own `default`
for what orjson passes on (dates and datetimes as HTTP dates, Decimal, dataclasses), so an
answer holds the same JSON as before, in UTF-8 rather than \\u escapes. Pretty-printed or
key-sorted answers, and reading JSON, stay Flask's own."""

from __future__ import annotations

from typing import Any, cast

from flask import Response
from flask.json.provider import DefaultJSONProvider
from werkzeug.sansio.response import Response as SansioResponse

from common import fastjson


class OrjsonProvider(DefaultJSONProvider):
    def dumps(self, obj: Any, **kwargs: Any) -> str:
        if kwargs or self.sort_keys:
            return super().dumps(obj, **kwargs)
        return fastjson.dumps(obj, self.default).decode()

    def response(self, *args: Any, **kwargs: Any) -> SansioResponse:
        if (self.compact is None and self._app.debug) or self.compact is False or self.sort_keys:
            return super().response(*args, **kwargs)
        obj = self._prepare_response_obj(args, kwargs)
        response_class = cast(type[Response], self._app.response_class)
        return response_class(fastjson.dumps(obj, self.default) + b"\n", mimetype=self.mimetype)
