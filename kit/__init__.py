"""Shared plumbing with no business rules: money, paging, cell parsing, bulk SQL, workbooks, locks, lanes, middleware.

It may import nothing of ours but `settings` and `errors`, so every other layer can use it.
"""
