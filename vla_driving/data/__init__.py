"""Rosbag2 reading and label derivation shared by the dataset builder and the evaluation."""

from vla_driving.data.bag_data import BagData, BagError, ReadReport
from vla_driving.data.bag_reader import read_bag
from vla_driving.data.label_config import LabelConfig
from vla_driving.data.labels import FrameLabels, OdomTrack, labels_at
from vla_driving.data.samples import Sample, SampleReport, build_samples
from vla_driving.data.topics import BagTopics, camera_topic

__all__ = ["BagData", "BagError", "BagTopics", "FrameLabels", "LabelConfig", "OdomTrack",
           "ReadReport", "Sample", "SampleReport", "build_samples", "camera_topic", "labels_at",
           "read_bag"]
