"""Entities shaped as MLflow's proto3 JSON, one module per area."""
