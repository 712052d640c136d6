"""Corpus refinement: ingest, normalisation, deduplication, user balancing, splits and statistics."""
