"""Operations that combine models and rules in one transaction. They flush; callers commit.

One package per domain, named in the product's words: ``survey`` (QR code → stored response),
``tickets``, ``routing``, ``sla`` (clocks, escalations, the board), ``questionnaires`` (the
builder), ``branches`` (calendars, QR codes, posters), ``people``, ``dashboard``, ``insight``
(filter, roll-ups, alerts, open answers, quality review), ``exports``, ``improvement_actions``.
Alone in their idea, at the top: ``audit`` (the admins' audit log), ``job_runs`` (long tasks
that build a file) and ``notifications`` (inbox, e-mail, webhooks). A package's ``__init__``
says whether it has a public face; services never import ``app.blueprints``, ``app.forms`` or
``app.jobs`` (tests/unit/test_layers.py holds them to it).
"""
