"""Building questionnaires (问卷): drafts, texts, dimensions, questions, skip rules, publishing, targeting.

No public face: import from the module that owns the change. Every change records itself in the
audit log and flushes; the view commits. A change the admin can fix raises ``refusals.Refused``
with the problems at the form's fields; any change to a published version raises
``PublishedVersionError`` before touching it (the model's flush guard stays behind that).

``settings`` (a questionnaire as a whole: create, copy, name and window, targeting, archive),
``versions`` (a new draft, texts, publish), ``dimensions``, ``questions``, ``skip_rules``,
``queries`` (reading for the builder, and a version as the pure checks of ``app.core`` read it),
``serving`` (what each QR code opens now, and which would switch after a publish, retargeting or window),
``refusals``, ``templates`` (the brief's default questionnaire in zh-Hans and en).
"""
