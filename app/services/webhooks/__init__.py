"""Webhooks: the one home of Loopdesk's outgoing events.

- ``events``: what can happen (``EVENT_TYPES``) and ``emit``, which a service calls in the transaction of
  the change: one ``WebhookDelivery`` (an outbox row) per active endpoint that subscribed to the event
  and whose branch scope holds the event's branch. The jobs hand the committed rows over
  (``app.jobs.notifications``); a sweep takes up whatever was not.
- ``payloads``: the marshmallow schemas of each event's ``data`` and of the envelope
  ``{"id", "type", "version", "created_at", "data"}``; the OpenAPI document's ``webhooks`` are made from them.
- ``signing``: Standard Webhooks signatures (``webhook-id``, ``webhook-timestamp``, ``webhook-signature``).
- ``delivery``: one attempt of a delivery (POST, record the attempt, the retry schedule).
- ``endpoints``: what an admin does with endpoints (add, edit, scope, rotate the secret, test, send again).

Delivery is at least once: an event may arrive twice (a retry after a timeout, "send again"), always
with the same ``id``; a receiver de-duplicates by it. No customer contact details leave in a payload.
"""
