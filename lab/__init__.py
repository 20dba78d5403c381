"""gameday-lab: an incident-simulation and game-day lab around the Arcade toy site."""

__version__ = "0.1.0"
