"""Measuring the assistant on data: abstention calibration now, the eval harness next. Sits on ingest and assistant."""
