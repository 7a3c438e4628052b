"""A small project laid out as Dagster's guides lay one out: assets in several modules."""
