"""What the orders service talks to: the journeys (Temporal) and the product catalog (inventory)."""
