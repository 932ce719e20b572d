"""A tiny untrained checkpoint and contract-dict samples for the export and bundle tests.

The checkpoint has random weights in the `tiny` training preset's architecture; the samples come
from the training package's synthetic dataset, which yields exactly the contract dict. Export,
quantization and loading are the real code paths.
"""

import torch

from vla_driving.model.checkpoint import save_checkpoint
from vla_driving.model.vla import VLAModel

GROUP_SIZE = 16  # divides the tiny LLM's 48 / 96 input widths


def tiny_samples(n: int, seed: int = 0) -> list[dict]:
    from vla_driving_training.synthetic import SyntheticDrivingDataset

    data = SyntheticDrivingDataset(n, image_size=32, seed=seed)
    return [data[i] for i in range(n)]


def make_checkpoint(directory, seed: int = 0):
    from vla_driving_training.presets import tiny
    from vla_driving_training.tokenizer_train import train_tokenizer

    samples = tiny_samples(16)
    texts = [s["instruction"] + " " + s["description"] + " " + s["justification"]
             for s in samples] + ["Ego: speed 1.5 m/s, yaw rate 0.01 rad/s. Plan:"] * 4
    tokenizer = train_tokenizer(texts, vocab_size=300)
    cfg = tiny().model
    cfg.llm.vocab_size = tokenizer.vocab_size
    torch.manual_seed(seed)
    model = VLAModel(cfg).eval()
    save_checkpoint(model, tokenizer, directory)
    return directory
