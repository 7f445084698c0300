"""SLA clocks (服务时限) of stored tickets, the escalation sweep, what admins change, and the supervisor board.

No public face: import from the module. ``clocks`` (a ticket's due times from its policy,
its branch's calendar and its status history; refreshing open tickets), ``policies`` (stored
policies, ladders and pausing statuses), ``settings`` (admins' changes to them, audited),
``escalations`` (the sweep: deadlines that came and the ladder rungs they pass), ``attainment``
(the one rule for SLA attainment: met, missed, still running by each ticket's own clock), ``board``
(breached and at-risk counts, attainment per local period).
"""
