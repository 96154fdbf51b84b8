"""Credit control: open bills and credit terms read from Tally, cached, and what follows from them.

A service layer (beside `reports`): it may import tally_cache, tally_client, models, database,
access, kit, errors and settings, never routers or main.
"""
