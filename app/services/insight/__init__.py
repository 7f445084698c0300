"""What the analysis pages share beside the dashboard: the filter, daily roll-ups, alerts, open answers, quality review.

No public face: import from the module. ``filters`` (the period/branch/region/version filter the
analysis pages and exports share), ``rollups`` (daily sums per branch, version and local day,
rebuilt by a job), ``alerts`` (a branch whose satisfaction drops or whose negative rate is high),
``open_answers`` (frequent words of open answers), ``quality_review`` (confirming or clearing
data-quality flags).
"""
