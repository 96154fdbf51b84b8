"""Credit control: ageing of Tally's open bills, credit limits, the hold list and how they change.

It may import `reports`, the domain packages, `tally_cache`, `tally_client`, `access`, `database`,
`models`, `schemas`, `errors`, `settings` and `kit`; never a router.
"""
