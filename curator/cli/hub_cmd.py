"""`curator hub serve`: the local HF-compatible hub (being written)."""
