"""The customer's survey: from a scanned QR code to a stored response, and what happens after submitting.

No public face: import from the module. ``entries`` (a QR token to the survey it opens),
``plans`` (a published version as the survey walks it, cached), ``submitting`` (resume a
draft, save each step, submit exactly once), ``responses`` (the after-submit work: quality
flags, roll-ups, the ticket; and reading responses back for staff).
"""
