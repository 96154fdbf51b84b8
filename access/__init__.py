"""Who is asking and what they did: the acting person, API keys and roles, the audit trail.

It may import `database`, `models`, `schemas`, `errors` and `kit`; never a domain service.
"""
