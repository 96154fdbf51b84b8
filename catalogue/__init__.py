"""The product catalogue: products with their categories, and dealer prices with their history.

It may import `access`, `database`, `models`, `schemas`, `errors` and `kit`.
"""
