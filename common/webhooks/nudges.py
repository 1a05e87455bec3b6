"""Waking the webhook sender: many commits, one message (taskqueue.coalesced_nudge).
Apart from the delivery engine so that recording an event (common/events.py) can wake it
without importing the webhooks service, which records events itself."""

from __future__ import annotations

from common import taskqueue

NUDGE_KEY = "invex:webhooks:sender-nudged"
NUDGE_COALESCE_MS = 20


def nudge_sender() -> bool:
    """Wake a sender (task `send_due_deliveries`). Nudges coalesce into one message until a
    sender starts (it clears the key first), so none is lost: a held-back nudge's rows were
    committed before the sender's first claim. The 20 ms expiry only guards a lost message.
    False (logged) when the broker is down: beat's dispatcher wakes a sender later."""
    return taskqueue.coalesced_nudge(
        NUDGE_KEY, NUDGE_COALESCE_MS, taskqueue.SEND_DUE_TASK, taskqueue.WEBHOOKS_QUEUE
    )


_sender_nudge = taskqueue.BackgroundNudge(
    nudge_sender, name="webhook-nudge", spacing=NUDGE_COALESCE_MS / 1000
)


def nudge_sender_soon() -> None:
    """nudge_sender from this process's nudge thread (taskqueue.BackgroundNudge)."""
    _sender_nudge.soon()
