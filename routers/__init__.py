"""Thin HTTP routes, one module per area; each route calls one service function.

Read routes are `async def` and hand the blocking service call to the worker pool with
`run_in_threadpool`: one thread trip per request. A plain `def` route costs two (the route, then
FastAPI's check of the answer), and under 50 concurrent clients the extra hand-offs of the GIL
cost more than the queries. Writes and file downloads stay plain `def`: they are rare.
"""
