"""VLA architecture shared by the runtime and training (see docs/model.md).

The names below load lazily, so that numpy-only parts (`preprocess_spec`, `frames`) can be read
by the floors above without importing torch (the camera ingest has no use for it).
"""

from importlib import import_module

_EXPORTS = {"HeadConfig": "config", "LLMConfig": "config", "VisionConfig": "config",
            "VLAConfig": "config", "VisualFrontend": "vision", "normalise_images": "vision",
            "ActionOutput": "vla", "VLAModel": "vla", "VLAOutput": "vla"}

__all__ = list(_EXPORTS)


def __getattr__(name: str):
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(import_module(f"{__name__}.{_EXPORTS[name]}"), name)
