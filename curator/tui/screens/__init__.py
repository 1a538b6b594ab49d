"""The screens of the curator app: queue, review, error."""
