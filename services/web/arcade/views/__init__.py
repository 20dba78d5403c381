"""Arcade's blueprints, one per area of the site."""
