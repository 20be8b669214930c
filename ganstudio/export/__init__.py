"""Turning generator output into files: grids, PNGs with provenance, animations (no Qt)."""
