"""VLA architecture shared by the runtime and training (see docs/model.md)."""

from vla_driving.model.config import HeadConfig, LLMConfig, VisionConfig, VLAConfig
from vla_driving.model.vision import VisualFrontend, normalise_images
from vla_driving.model.vla import ActionOutput, VLAModel, VLAOutput

__all__ = ["HeadConfig", "LLMConfig", "VisionConfig", "VLAConfig", "VisualFrontend",
           "normalise_images", "ActionOutput", "VLAModel", "VLAOutput"]
