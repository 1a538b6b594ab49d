"""The domain core: candidates, manifests, stages, results, policy, pipeline. No UI here."""
