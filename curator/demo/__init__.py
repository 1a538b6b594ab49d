"""The local HF-compatible hub and its generated sample candidates.

``store`` keeps repos (plain folders, or published commits with branches and tags),
``hub`` serves them over HTTP the way huggingface_hub expects, ``faults`` makes the
hub misbehave on purpose for tests, ``samples`` writes the demo candidates.
Everything here is stdlib (plus PyYAML to read cards), never imported by ``curator --help``.
"""
