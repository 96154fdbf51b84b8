"""What the service says about itself: health of the database and of Tally.

It may import `tally_cache`, `tally_client`, `database`, `models`, `schemas`, `errors` and `kit`.
"""
