"""The local HF-compatible hub and its generated sample candidates.

``store`` keeps repos (plain folders, or published commits with branches and tags),
``hub`` serves them over HTTP the way huggingface_hub expects, ``faults`` makes the
hub misbehave on purpose for tests, ``samples`` writes the demo candidates (signed by
``pki``'s demo publisher, with ``tokenizer``'s files), ``policy`` writes the demo
workspace's own policy and curator key, ``prepare`` builds it all in the background.
Stdlib plus PyYAML (cards), cryptography and model-signing (the demo signatures); never imported
by ``curator --help``.
"""
