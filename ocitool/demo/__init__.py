"""``ocitool demo``: build a bundle from what the host has, show its plan, run it, compare."""
