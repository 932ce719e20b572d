"""Rosbag2 reading and label derivation shared by the dataset builder and the evaluation."""

from .bag_reader import BagData, BagError, ReadReport, read_bag
from .label_config import LabelConfig
from .labels import FrameLabels, OdomTrack, labels_at
from .samples import Sample, SampleReport, build_samples
from .topics import BagTopics, camera_topic

__all__ = ["BagData", "BagError", "BagTopics", "FrameLabels", "LabelConfig", "OdomTrack",
           "ReadReport", "Sample", "SampleReport", "build_samples", "camera_topic", "labels_at",
           "read_bag"]
