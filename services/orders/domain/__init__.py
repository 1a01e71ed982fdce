"""Orders' pure rules and the shapes they work on; no I/O, no framework.

- records: what the orders database holds (orders, fulfillments, returns, tasks)
- placing: what a valid order is, and its price
- store_work: the store's actions the orders service checks before the journey is asked
- progress: what the journeys may record
- returns: what a valid return is, and its refund

The order's lifecycle rules (what may be picked, rejected, handed over,
cancelled or returned, and how tenders split) are not here: they live once, in
workflows/order/rules.py, and these modules ask it.
"""
