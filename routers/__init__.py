"""Thin HTTP routes, one module per area; each route turns HTTP into one service call and back.

Routers may import services, `access`, `kit`, `database` (for `SessionDep`), `schemas` and
`errors`; never sqlalchemy, and they never raise HTTPException. How routes run (which threads)
is described in kit/lanes.py.
"""
