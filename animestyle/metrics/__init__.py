"""Metrics and probes: tensors (or a small protocol, such as a callable from images to codes)
in, numbers out; on synthetic data, scores against the known ground truth.

Nothing here imports a method, a tool or a callback: the reports that load a checkpoint
and run these on it live in :mod:`animestyle.tools`.
"""

from animestyle.metrics.adversarial import adversarial_accuracy
from animestyle.metrics.attribute_editing import (
    attribute_columns,
    editable,
    evaluate_edits,
    evaluate_reconstruction,
    real_batches,
)
from animestyle.metrics.batches import image_batches
from animestyle.metrics.encoder_analysis import (
    class_centre_distance,
    encode_dataset,
    encoder_report,
    format_tables,
    label_classes,
    linear_probe,
    naive_bayes_probe,
)
from animestyle.metrics.image_quality import psnr, ssim
from animestyle.metrics.measures import (
    DomainFeatures,
    OracleScores,
    TransferScores,
    frechet_distance,
    inception_distances,
    kernel_distance,
)
from animestyle.metrics.oracle import SyntheticOracle, evaluate_oracle, load_oracle, oracle_path, train_oracle
from animestyle.metrics.reference_transfer import evaluate_reference_transfers, style_references
from animestyle.metrics.style_space import (
    accuracy_by_dims,
    default_dims,
    encode_images,
    plot_curves,
    reconstruction_by_dims,
    spearman_by_dimension,
    spearman_chance,
    spearman_matrix,
    suggest_dims,
    variance_ratio_by_dims,
)
from animestyle.metrics.tables import markdown_table
from animestyle.metrics.transfer import ArtistPredictor, evaluate_transfers, target_artists

__all__ = [
    "ArtistPredictor",
    "DomainFeatures",
    "OracleScores",
    "SyntheticOracle",
    "TransferScores",
    "accuracy_by_dims",
    "adversarial_accuracy",
    "attribute_columns",
    "class_centre_distance",
    "default_dims",
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
    "frechet_distance",
    "image_batches",
    "inception_distances",
    "kernel_distance",
    "label_classes",
    "linear_probe",
    "load_oracle",
    "markdown_table",
    "naive_bayes_probe",
    "oracle_path",
    "plot_curves",
    "psnr",
    "real_batches",
    "reconstruction_by_dims",
    "spearman_by_dimension",
    "spearman_chance",
    "spearman_matrix",
    "ssim",
    "style_references",
    "suggest_dims",
    "target_artists",
    "train_oracle",
    "variance_ratio_by_dims",
]
