"""The ledger: reviews, stage results and a hash-chained, append-only event log."""

from curator.ledger.chain import ChainReport
from curator.ledger.sqlite import Ledger

__all__ = ["ChainReport", "Ledger"]
