"""eval stage of the pipeline."""
