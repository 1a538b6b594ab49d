"""The quarterly review of approved models: settings, checks, upstream, actions, run."""
