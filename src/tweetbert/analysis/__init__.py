"""Analyses of the trained models: aggregation of downstream sweeps and the choice of the final model."""
