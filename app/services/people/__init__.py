"""The people who use Loopdesk: departments and users as admins manage them.

No public face: import from the module. ``admin`` (departments, invitations, role and scope,
deactivation, password links).
"""
