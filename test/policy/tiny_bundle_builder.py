"""Build a tiny, untrained but real bundle (the export engineer's `build_bundle` on the `tiny`
training preset), for the policy and planner tests. ~10 s on 2 CPU cores."""

from pathlib import Path


def build_tiny_bundle(directory: Path, seed: int = 0) -> Path:
    import torch

    from vla_driving.export.pipeline import ExportSettings, build_bundle
    from vla_driving.model.checkpoint import save_checkpoint
    from vla_driving.model.vla import VLAModel
    from vla_driving_training.presets import tiny
    from vla_driving_training.synthetic import SyntheticDrivingDataset
    from vla_driving_training.tokenizer_train import train_tokenizer

    torch.set_num_threads(2)
    data = SyntheticDrivingDataset(8, image_size=32, seed=seed)
    samples = [data[i] for i in range(8)]
    texts = [s["instruction"] + " " + s["description"] + " " + s["justification"] for s in samples]
    tokenizer = train_tokenizer(texts, vocab_size=300)
    cfg = tiny().model
    cfg.llm.vocab_size = tokenizer.vocab_size
    torch.manual_seed(seed)
    checkpoint = Path(directory) / "checkpoint"
    save_checkpoint(VLAModel(cfg).eval(), tokenizer, checkpoint)
    bundle = Path(directory) / "bundle"
    build_bundle(checkpoint, bundle, samples, samples, ExportSettings(quantize=False), name="tiny")
    return bundle
