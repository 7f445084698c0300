"""Branches (门店/网点) as admins run them: the branch and its calendar, its QR codes and their posters.

No public face: import from the module. ``admin`` (create, edit, deactivate, weekly hours,
holidays, QR code changes, each audited), ``calendars`` (a branch's business calendar from its
stored hours and holidays, as the SLA clocks read it), ``qr_codes`` (the survey URL a code
carries, its images and poster), ``posters`` (every code's poster at once, a file job).
"""
