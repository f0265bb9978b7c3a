"""Reviewing plans over time: compare two versions (`diff`), accept a baseline of known findings,
draw the topology (`graph`) and start a new plan (`init`)."""
