"""Ablation matrices (plan §4): `sashimi ablate` runs them (`runner`), `sashimi ablate report` reports them."""
