"""Log lines: text or JSON, carrying the IDs bound to the work at hand."""

from __future__ import annotations

import io
import json
import logging
import threading

import pytest

from common import logs


@pytest.fixture
def captured():
    """The root logger configured as a process configures it, writing into a buffer."""
    root = logging.getLogger()
    saved = (list(root.handlers), root.level)

    def configure(log_format: str) -> io.StringIO:
        logs.configure_logging("INFO", log_format)
        buffer = io.StringIO()
        (ours,) = [h for h in root.handlers if h.get_name() == logs.HANDLER_NAME]
        ours.stream = buffer  # type: ignore[attr-defined]
        return buffer

    yield configure
    logs.clear()
    root.handlers[:] = saved[0]
    root.setLevel(saved[1])


def test_json_lines_carry_the_bound_ids(captured):
    out = captured("json")
    logs.bind(request_id="req_1", org_id="org_2", invoice_id="inv_3")
    logging.getLogger("invex.test").info("uploaded %s", "inv_3")
    line = json.loads(out.getvalue())
    assert line["message"] == "uploaded inv_3"
    assert (line["request_id"], line["org_id"], line["invoice_id"]) == ("req_1", "org_2", "inv_3")
    assert (line["level"], line["logger"]) == ("INFO", "invex.test")


def test_json_lines_leave_out_ids_not_known(captured):
    out = captured("json")
    logs.bind(request_id="req_1")
    logging.getLogger("invex.test").info("ping")
    line = json.loads(out.getvalue())
    assert "org_id" not in line
    assert "invoice_id" not in line


def test_json_lines_carry_the_traceback(captured):
    out = captured("json")
    try:
        raise ValueError("broken")
    except ValueError:
        logging.getLogger("invex.test").exception("crashed")
    line = json.loads(out.getvalue())
    assert "ValueError: broken" in line["exception"]


def test_text_lines_end_with_the_bound_ids(captured):
    out = captured("text")
    logs.bind(invoice_id="inv_3")
    logging.getLogger("invex.test").info("extracted")
    assert out.getvalue().rstrip().endswith("invex.test: extracted [invoice_id=inv_3]")


def test_cleared_ids_are_gone_from_the_next_line(captured):
    out = captured("json")
    logs.bind(invoice_id="inv_3")
    logs.clear()
    logging.getLogger("invex.test").info("next")
    assert "invoice_id" not in json.loads(out.getvalue())


def test_ids_bound_in_one_thread_stay_out_of_another(captured):
    out = captured("json")
    logs.bind(org_id="org_main")

    def other() -> None:
        logs.bind(org_id="org_other")
        logging.getLogger("invex.test").info("other")

    thread = threading.Thread(target=other)
    thread.start()
    thread.join()
    logging.getLogger("invex.test").info("main")
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [(line["message"], line["org_id"]) for line in lines] == [
        ("other", "org_other"),
        ("main", "org_main"),
    ]


def test_configuring_again_replaces_only_its_own_handler(captured):
    root = logging.getLogger()
    other = logging.NullHandler()
    root.addHandler(other)
    captured("text")
    captured("json")
    assert other in root.handlers
    assert [h.get_name() for h in root.handlers].count(logs.HANDLER_NAME) == 1
