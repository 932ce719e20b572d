"""VLA architecture shared by the runtime and training (see docs/model.md)."""

from .config import HeadConfig, LLMConfig, VisionConfig, VLAConfig
from .vision import VisualFrontend, normalise_images
from .vla import ActionOutput, VLAModel, VLAOutput

__all__ = ["HeadConfig", "LLMConfig", "VisionConfig", "VLAConfig", "VisualFrontend",
           "normalise_images", "ActionOutput", "VLAModel", "VLAOutput"]
