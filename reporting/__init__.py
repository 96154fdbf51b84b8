"""What the OD report is built from and shipped as: retailer-to-ledger matching, mapping writes and sheets, report files.

It may import `tally_cache`, `access`, `database`, `models`, `schemas`, `errors` and `kit`; never `tally_client`.
"""
