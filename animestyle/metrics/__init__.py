"""Metrics and probes; on synthetic data, scores against the known ground truth."""

from animestyle.metrics.encoder_analysis import (
    class_centre_distance,
    encode_dataset,
    encoder_report,
    format_tables,
    label_classes,
    naive_bayes_probe,
)
from animestyle.metrics.oracle import SyntheticOracle, evaluate_oracle, load_oracle, oracle_path, train_oracle
from animestyle.metrics.transfer import ArtistPredictor, evaluate_transfers, target_artists

__all__ = [
    "ArtistPredictor",
    "SyntheticOracle",
    "class_centre_distance",
    "encode_dataset",
    "encoder_report",
    "evaluate_oracle",
    "evaluate_transfers",
    "format_tables",
    "label_classes",
    "load_oracle",
    "naive_bayes_probe",
    "oracle_path",
    "target_artists",
    "train_oracle",
]
