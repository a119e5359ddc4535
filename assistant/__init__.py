"""Cluster Assistant: answers questions from the cluster's documents, grounded and cited."""
