"""The decision: rules, signed decide, swap, production tag, the approved projection, the deploy gate."""
