"""Ingest: load → split → embed → write. `ingest.pipeline.ingest` runs the four stages."""
