"""ir stage of the pipeline."""
