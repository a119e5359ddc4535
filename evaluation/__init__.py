"""Measuring the assistant: SQuAD and golden evaluations, abstention calibration, the plain-LangChain peer, and the
benchmarks (`make bench`, `make loadtest`). Sits on ingest, the engine and the desk; nothing imports it."""
