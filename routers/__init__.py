"""Thin HTTP routes, one module per area; each route calls one service function.

Read routes are `async def` and hand the blocking service call to a worker thread in one trip:
`lanes.read` for plain database reads, `run_in_threadpool` for reads that may wait for Tally. A
plain `def` route costs two trips (the route, then FastAPI's check of the answer), and under 50
concurrent clients the hand-offs of the GIL cost more than the queries (see lanes.py). Writes
and file downloads stay plain `def`: they are rare.
"""
