"""``animestyle prepare``: illustrations + artist tags -> upright face crops + a manifest."""

from animestyle.data.prepare.detect import Face, detect_faces, require_detector
from animestyle.data.prepare.geometry import CropBox, crop_box, upright_crop
from animestyle.data.prepare.pipeline import PrepareReport, prepare
from animestyle.data.prepare.sources import Record, read_records
from animestyle.data.prepare.worker import Settings

__all__ = [
    "CropBox",
    "Face",
    "PrepareReport",
    "Record",
    "Settings",
    "crop_box",
    "detect_faces",
    "prepare",
    "read_records",
    "require_detector",
    "upright_crop",
]
