"""JSON written by orjson (common/fastjson.py, api/json_provider.py) reads back as the
standard library's would have written it, including what orjson passes on or cannot write."""

import dataclasses
import json
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from flask import Flask

from api.json_provider import OrjsonProvider
from common import fastjson

SAMPLES = [
    {"id": "inv_01", "fields": {"total": "12.50", "lines": [{"qty": 2.5, "n": None}]}},
    {"vendor": "Müller & Söhne GmbH", "note": "€ 10, 税"},
    {"big": 10**30, "small": -(10**25)},  # beyond 64 bits: json.dumps writes it
    {1: "int key", 2.5: "float key"},
    [1.5e-7, 0.1, 1e300, -0.0],
]


@pytest.mark.parametrize("value", SAMPLES)
def test_reads_back_as_the_standard_librarys_output(value):
    assert json.loads(fastjson.dumps(value)) == json.loads(json.dumps(value))


def test_a_lone_surrogate_is_written_escaped_as_json_dumps_writes_it():
    # orjson refuses it (no UTF-8 for it); PostgreSQL then refuses the escape in jsonb,
    # as it did before, rather than the dumper failing to encode
    assert fastjson.dumps({"text": "a\ud800b"}) == b'{"text":"a\\ud800b"}'


def test_dates_go_to_default_as_with_json_dumps():
    moment = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
    written = fastjson.dumps({"at": moment, "on": date(2026, 11, 24)}, default=str)
    assert json.loads(written) == {"at": str(moment), "on": "2026-11-24"}
    with pytest.raises(TypeError):  # no default: refused, as json.dumps refuses it
        fastjson.dumps({"at": moment})


def test_what_neither_writes_is_refused():
    with pytest.raises(TypeError):
        fastjson.dumps({"amount": Decimal("1.10")})


@dataclasses.dataclass
class Point:
    x: int


def test_flask_answers_render_as_flasks_own_provider():
    app = Flask("fastjson-test")
    ours = OrjsonProvider(app)
    flasks = app.json
    ours.sort_keys = flasks.sort_keys = False  # as api/app.py sets it; sorted is Flask's own
    value = {
        "at": datetime(2026, 11, 24, 12, 0, tzinfo=UTC),
        "amount": Decimal("1.10"),
        "point": Point(3),
        "name": "Müller",
    }
    with app.app_context():
        mine, theirs = ours.response(value), flasks.response(value)
    assert mine.mimetype == theirs.mimetype == "application/json"
    assert mine.get_data().endswith(b"\n")
    assert json.loads(mine.get_data()) == json.loads(theirs.get_data())
    assert json.loads(ours.dumps(value)) == json.loads(flasks.dumps(value))
    assert "Müller" in mine.get_data(as_text=True)  # UTF-8, not \u escapes
    big = {"big": 10**30, "name": "Müller"}  # orjson refuses it; json.dumps writes it
    assert json.loads(ours.dumps(big)) == big
