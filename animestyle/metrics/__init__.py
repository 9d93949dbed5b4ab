"""Metrics and probes; on synthetic data, scores against the known ground truth."""

from animestyle.metrics.oracle import SyntheticOracle, evaluate_oracle, load_oracle, oracle_path, train_oracle

__all__ = ["SyntheticOracle", "evaluate_oracle", "load_oracle", "oracle_path", "train_oracle"]
