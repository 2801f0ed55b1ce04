"""The flow lab: recorded runs of real flows, the attack playground and the advisor."""
