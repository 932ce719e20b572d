"""Train the byte-level BPE tokenizer on our own corpus (prompts, captions, QA, plans, numbers)."""

from __future__ import annotations

import logging
from typing import Iterable, Iterator

import numpy as np

from vla_driving.meta_action import SPEED_LEVELS, STEERING_LEVELS, MetaAction
from vla_driving.model.prompt import CAPTION_PROMPT, answer_target, driving_prompt, question_prompt
from vla_driving.model.text_format import format_plan
from vla_driving.model.tokenizer import SPECIAL_TOKENS, TextTokenizer

LOG = logging.getLogger(__name__)


def sample_texts(sample: dict) -> Iterator[str]:
    """Every text the model reads or writes for one sample."""
    yield driving_prompt(sample["ego"], sample["past"], sample["instruction"])
    yield sample["description"]
    yield sample["justification"]
    meta = MetaAction.from_indices(int(sample["speed_level"]), int(sample["steering_level"]))
    yield format_plan(sample["description"], meta, sample["justification"], sample["waypoints"])
    for question, answer in sample["qa"]:
        yield question_prompt(question) + " " + answer_target(answer)


def fixed_texts() -> Iterator[str]:
    """Texts every tokenizer must cover: prompts, level names, number formats."""
    yield CAPTION_PROMPT
    for speed in SPEED_LEVELS:
        for steer in STEERING_LEVELS:
            yield f"Meta-action: {MetaAction(speed, steer).text()}"
    for value in np.arange(-50.0, 100.0, 0.7):
        yield f"({value:.1f}, {-value:.1f}) {value:.2f} m/s"


def train_tokenizer(texts: Iterable[str], vocab_size: int) -> TextTokenizer:
    """A byte-level BPE with single-digit tokens and our special tokens."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

    tok = Tokenizer(models.BPE(unk_token=None))
    tok.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Digits(individual_digits=True),
        pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)])
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=SPECIAL_TOKENS,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
                                  show_progress=False)
    tok.train_from_iterator(texts, trainer=trainer)
    LOG.info("tokenizer: %d tokens", tok.get_vocab_size())
    return TextTokenizer(tok)


def tokenizer_from_dataset(dataset, vocab_size: int, max_samples: int = 2000) -> TextTokenizer:
    """Train on up to `max_samples` evenly spaced samples plus the fixed texts."""
    step = max(1, len(dataset) // max_samples)

    def corpus() -> Iterator[str]:
        yield from fixed_texts()
        for i in range(0, len(dataset), step):
            yield from sample_texts(text_fields(dataset, i))

    return train_tokenizer(corpus(), vocab_size)


def text_fields(dataset, index: int) -> dict:
    """The sample's text fields, without decoding images when the dataset offers that."""
    getter = getattr(dataset, "text_sample", None)
    return getter(index) if getter is not None else dataset[index]
