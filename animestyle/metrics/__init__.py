"""Metrics and probes; on synthetic data, scores against the known ground truth."""

from animestyle.metrics.attribute_editing import (
    edit_report,
    editable,
    evaluate_edits,
    evaluate_reconstruction,
)
from animestyle.metrics.encoder_analysis import (
    class_centre_distance,
    encode_dataset,
    encoder_report,
    format_tables,
    label_classes,
    naive_bayes_probe,
)
from animestyle.metrics.image_quality import psnr, ssim
from animestyle.metrics.oracle import SyntheticOracle, evaluate_oracle, load_oracle, oracle_path, train_oracle
from animestyle.metrics.reference_transfer import evaluate_reference_transfers, nst_report, style_references
from animestyle.metrics.style_space import (
    accuracy_by_dims,
    default_dims,
    encode_images,
    markdown_table,
    plot_curves,
    reconstruction_by_dims,
    spearman_by_dimension,
    spearman_chance,
    spearman_matrix,
    style_report,
    suggest_dims,
    variance_ratio_by_dims,
)
from animestyle.metrics.transfer import ArtistPredictor, evaluate_transfers, target_artists

__all__ = [
    "ArtistPredictor",
    "SyntheticOracle",
    "accuracy_by_dims",
    "class_centre_distance",
    "default_dims",
    "edit_report",
    "editable",
    "encode_dataset",
    "encode_images",
    "encoder_report",
    "evaluate_edits",
    "evaluate_oracle",
    "evaluate_reconstruction",
    "evaluate_reference_transfers",
    "evaluate_transfers",
    "format_tables",
    "label_classes",
    "load_oracle",
    "markdown_table",
    "naive_bayes_probe",
    "nst_report",
    "oracle_path",
    "plot_curves",
    "psnr",
    "reconstruction_by_dims",
    "spearman_by_dimension",
    "spearman_chance",
    "spearman_matrix",
    "ssim",
    "style_references",
    "style_report",
    "suggest_dims",
    "target_artists",
    "train_oracle",
    "variance_ratio_by_dims",
]
