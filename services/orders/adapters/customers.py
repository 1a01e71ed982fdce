"""Merged customer ids for the orders service's object checks (access.py):
the one resolver is services/common/customer_merges.py (payments uses it too)."""

from services.common.customer_merges import CustomerMerges

__all__ = ["CustomerMerges"]
