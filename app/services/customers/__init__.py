"""Known customers (contacts): the foundation campaigns, personal links and segments build on.

No public face: import from the module. ``records`` (find, list in a user's scope, create and update
one, consent and opt-out per channel, the upsert an import and the API share), ``attributes`` (the
definitions the admin makes and the values they allow), ``imports`` (CSV and XLSX: preview, column
mapping, the job that runs it), ``privacy`` (erasure and the retention sweep).
"""
