"""data stage of the pipeline."""
