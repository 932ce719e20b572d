"""ROS-free camera ingest: decoding, multi-view sync, preprocessing and the `Ingest` core."""

from vla_driving.sensors.config import IngestConfig
from vla_driving.sensors.decode import CompressedImage, DecodeError, DecodeLimits, RawImage, decode
from vla_driving.sensors.ingest import Ingest, Rejection, stack_views
from vla_driving.sensors.odometry import OdometryFields
from vla_driving.sensors.preprocess import PreprocessSpec
from vla_driving.sensors.sync import MultiViewSync

__all__ = ["CompressedImage", "DecodeError", "DecodeLimits", "Ingest", "IngestConfig",
           "MultiViewSync", "OdometryFields", "PreprocessSpec", "RawImage", "Rejection",
           "decode", "stack_views"]
