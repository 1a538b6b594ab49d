"""The inventory of models in the registry and their state."""
