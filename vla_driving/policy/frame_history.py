"""Frame picking moved to the model's processor (`vla_driving.model.frames`); kept for imports."""

from vla_driving.model.frames import SPAN_SLACK, FramePicker, pick_frames

__all__ = ["SPAN_SLACK", "FramePicker", "pick_frames"]
