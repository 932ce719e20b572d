"""Greedy generation: the KV-cached loop produces exactly the tokens of the uncached loop."""

import torch

from vla_driving.model.inference import build_prefix, greedy_generate

from vla_test_helpers import inputs, small_model

torch.set_num_threads(1)


def test_kv_cached_greedy_equals_uncached():
    for seed in range(3):
        model = small_model(seed=seed)
        images, ego, past = inputs(batch=1, seed=seed)
        prefix = build_prefix(model, images, ego, past, [1, 7, 9, 11], use_queries=True)
        # eos_id outside the vocabulary: both loops run the full length and must agree throughout
        cached = greedy_generate(model, prefix.embeds, eos_id=-1, max_new_tokens=20)
        uncached = greedy_generate(model, prefix.embeds, eos_id=-1, max_new_tokens=20,
                                   use_cache=False)
        assert len(cached) == 20
        assert cached == uncached


def test_generation_stops_at_eos():
    model = small_model(seed=1)
    images, ego, past = inputs(batch=1)
    prefix = build_prefix(model, images, ego, past, [1, 7], use_queries=False)
    tokens = greedy_generate(model, prefix.embeds, eos_id=-1, max_new_tokens=5)
    stopped = greedy_generate(model, prefix.embeds, eos_id=tokens[2], max_new_tokens=5)
    assert stopped == tokens[: tokens.index(tokens[2])]
