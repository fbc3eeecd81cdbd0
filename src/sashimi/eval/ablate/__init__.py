"""Ablation matrices (issue 14): `sashimi ablate` runs them, `sashimi ablate report OUT` summarises them."""
