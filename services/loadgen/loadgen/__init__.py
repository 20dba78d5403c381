"""Player traffic for Arcade: an open-loop arrival-rate generator with a local control interface."""
