"""Coaching: the guided session flow (plan, sets, rest, pain stop), which cue to show or speak and when, the HUD
state."""
