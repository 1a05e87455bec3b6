"""Which task code a Celery worker loads: that of the queues it takes (workers/celery_app.py)."""

from __future__ import annotations

import importlib
import re

import pytest

from tests.support import ServiceProcesses

pytestmark = pytest.mark.slow


def registered_tasks(log: str) -> set[str]:
    """The names under the `[tasks]` heading of a worker's start-up banner."""
    listing = log.split("[tasks]", 1)[1].split("\n\n", 1)[0]
    return set(re.findall(r"\. (\S+)", listing))


def test_every_task_is_loaded_by_the_workers_of_the_queue_it_is_routed_to(settings):
    from workers import celery_app

    for module in celery_app.ALL_TASK_MODULES:
        importlib.import_module(module)
    tasks = {name: task for name, task in celery_app.app.tasks.items() if name.startswith("invex.")}

    assert len(tasks) >= 11
    for name, task in tasks.items():
        queue = celery_app.app.amqp.router.route({}, name)["queue"].name
        assert task.run.__module__ in celery_app.TASK_MODULES_BY_QUEUE[queue], (name, queue)


def test_a_queue_of_an_operators_naming_loads_every_task_module(settings):
    from workers import celery_app

    assert set(celery_app.task_modules_for(["exports", "nightly"])) == set(
        celery_app.ALL_TASK_MODULES
    )
    assert celery_app.task_modules_for(["exports", "bank"]) == (
        "workers.export_tasks",
        "workers.bank_tasks",
    )


def test_an_exports_worker_registers_only_the_export_task(servers, module_database):
    processes = ServiceProcesses(servers["database_url"], servers["redis_url"])
    try:
        processes.start_exports_worker()
        log = processes.exports_log.read_text()
    finally:
        processes.stop()

    assert registered_tasks(log) == {"invex.exports.run"}
