"""Change control: what changed between two revisions, rollback, signed ledger checkpoints.

``diff`` compares two reviews or registry refs; ``rollback`` moves the production tag back;
``checkpoint`` signs the ledger's head. The approved projection, swap and the production tag
live in ``curator.decision``. Never imports a UI.
"""
