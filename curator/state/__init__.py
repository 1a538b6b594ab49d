"""The registry's signed state: what is approved, retired, rejected and in production, as
TUF metadata (python-tuf) stored in the registry's ``curator-state`` repository."""
