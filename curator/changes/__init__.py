"""Change control: what changed between two revisions, swaps, rollback, signed ledger checkpoints.

``history`` reads what the ledger says was approved and put in production; ``diff`` compares
two reviews or registry refs; ``swap`` is the rule that an approval replacing an inventory
model carries a justification and a rollback plan; ``production`` and ``rollback`` move the
production tag; ``checkpoint`` signs the ledger's head. Never imports a UI.
"""
