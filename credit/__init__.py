"""Credit control: open bills and credit terms read from Tally and cached, their ageing, credit
limits, the hold list with its releases, and daily snapshots of how the book changes.

A service layer (beside `reports`): it may import `reports`, the domain packages, `tally_cache`,
`tally_client`, `access`, `database`, `models`, `schemas`, `errors`, `settings` and `kit`; never
`routers` or `main`.
"""
