"""Helpers of `prm_import`: reading workbooks, checking rows, writing the database.

Callers import from `prm_import`; these modules are its parts.
"""
