"""Tools that make data for training and measuring the extractor (not shipped with the service)."""
