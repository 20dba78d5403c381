"""Drives a scenario against a real stack: steady state, schedule, responders, halt, recovery."""
