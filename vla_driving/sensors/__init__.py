"""ROS-free camera ingest: decoding, multi-view sync, preprocessing and the `Ingest` core."""

from .config import IngestConfig
from .decode import CompressedImage, DecodeError, DecodeLimits, RawImage, decode
from .ingest import Ingest, Rejection, stack_views
from .odometry import OdometryFields
from .preprocess import PreprocessSpec
from .sync import MultiViewSync

__all__ = ["CompressedImage", "DecodeError", "DecodeLimits", "Ingest", "IngestConfig",
           "MultiViewSync", "OdometryFields", "PreprocessSpec", "RawImage", "Rejection",
           "decode", "stack_views"]
