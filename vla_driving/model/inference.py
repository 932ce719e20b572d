"""Inference on a `VLAModel`: the one-pass action-query plan and greedy text generation.

Generation runs one sample at a time (no padding inside the cache); `use_cache=False` recomputes
the whole sequence each step and exists to test that the KV cache changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from vla_driving.model.llm import decoder_step
from vla_driving.model.processor import prompt_ids
from vla_driving.model.tokenizer import TextTokenizer
from vla_driving.model.vision import normalise_images
from vla_driving.model.vla import ActionOutput, VLAModel


@dataclass
class Prefix:
    embeds: torch.Tensor   # [1, L, D]
    query_start: int


def encode_prompts(tokenizer: TextTokenizer, texts: list[str]) -> list[list[int]]:
    return [[tokenizer.bos_id] + tokenizer.encode(t) for t in texts]


def driving_prompts(tokenizer: TextTokenizer, ego, past, instructions) -> list[list[int]]:
    """The driving prompts' token ids (the processor's `prompt_ids`)."""
    return prompt_ids(tokenizer, ego, past, instructions)


@torch.no_grad()
def action_pass(model: VLAModel, images: torch.Tensor, ego: torch.Tensor, past: torch.Tensor,
                prompts: list[list[int]]) -> ActionOutput:
    """One forward pass over prepared inputs (normalised images, prompt ids): the action head."""
    return model(images, ego, past, prompts, None, use_queries=True).actions


@torch.no_grad()
def plan_actions(model: VLAModel, tokenizer: TextTokenizer, images_uint8: torch.Tensor,
                 ego: torch.Tensor, past: torch.Tensor, instructions: list[str]) -> ActionOutput:
    """The real-time path: one forward pass, no decoding."""
    images = normalise_images(images_uint8, model.cfg.vision)
    prompts = driving_prompts(tokenizer, ego, past, instructions)
    return action_pass(model, images, ego, past, prompts)


@dataclass
class Generated:
    text: str
    ended: bool        # EOS came within the limit (False: cut at max_new_tokens)
    tokens: int


@torch.no_grad()
def greedy_generate(model: VLAModel, prefix_embeds: torch.Tensor, eos_id: int,
                    max_new_tokens: int, use_cache: bool = True) -> list[int]:
    """Greedy decoding after `prefix_embeds` [1, L, D]; stops at EOS (not returned)."""
    return greedy_decode(model, prefix_embeds, eos_id, max_new_tokens, use_cache)[0]


@torch.no_grad()
def greedy_decode(model: VLAModel, prefix_embeds: torch.Tensor, eos_id: int,
                  max_new_tokens: int, use_cache: bool = True) -> tuple[list[int], bool]:
    """`greedy_generate`'s tokens and whether EOS ended them (False: the limit cut them)."""
    lm_head = model.llm.get_output_embeddings()
    hidden, cache = decoder_step(model.llm, prefix_embeds, use_cache=use_cache)
    seq = prefix_embeds
    out: list[int] = []
    for step in range(max_new_tokens + 1):
        token = int(lm_head(hidden[:, -1]).argmax(-1))
        if token == eos_id:
            return out, True
        if step == max_new_tokens:   # one look past the limit: EOS exactly there still ends
            return out, False
        out.append(token)
        emb = model.embed_tokens(torch.tensor([[token]], device=prefix_embeds.device))
        if use_cache:
            hidden, cache = decoder_step(model.llm, emb, cache=cache, use_cache=True)
        else:
            seq = torch.cat([seq, emb], dim=1)
            hidden, _ = decoder_step(model.llm, seq)
    return out, False


@torch.no_grad()
def build_prefix(model: VLAModel, images: torch.Tensor, ego: torch.Tensor, past: torch.Tensor,
                 prompt: list[int], use_queries: bool) -> Prefix:
    """Prefix embeds of one sample (normalised images [1, T*N, 3, S, S])."""
    visual = model.frontend(images)
    state = model.state_embeds(ego, past)
    embeds, _, _, starts = model.build_sequence(visual, state, [prompt], None, use_queries)
    return Prefix(embeds, int(starts[0]))


@torch.no_grad()
def generate_texts(model: VLAModel, tokenizer: TextTokenizer, images: torch.Tensor,
                   ego: torch.Tensor, past: torch.Tensor, prompts: list[list[int]],
                   use_queries: bool, max_new_tokens: int | None = None,
                   use_cache: bool = True) -> list[str]:
    """Greedy text for each sample of a batch (normalised images)."""
    limit = max_new_tokens or model.cfg.max_new_tokens
    texts = []
    for i, prompt in enumerate(prompts):
        prefix = build_prefix(model, images[i:i + 1], ego[i:i + 1], past[i:i + 1], prompt,
                              use_queries)
        ids = greedy_generate(model, prefix.embeds, tokenizer.eos_id, limit, use_cache)
        texts.append(tokenizer.decode(ids))
    return texts


@torch.no_grad()
def generate_one(model: VLAModel, tokenizer: TextTokenizer, images: torch.Tensor,
                 ego: torch.Tensor, past: torch.Tensor, prompt: list[int], use_queries: bool,
                 max_new_tokens: int | None = None) -> Generated:
    """Greedy text of one sample (batch of one, normalised images), saying whether it ended."""
    limit = max_new_tokens or model.cfg.max_new_tokens
    prefix = build_prefix(model, images, ego, past, prompt, use_queries)
    ids, ended = greedy_decode(model, prefix.embeds, tokenizer.eos_id, limit)
    return Generated(tokenizer.decode(ids), ended, len(ids))


@torch.no_grad()
def generate_plan_texts(model: VLAModel, tokenizer: TextTokenizer, images_uint8: torch.Tensor,
                        ego: torch.Tensor, past: torch.Tensor, instructions: list[str],
                        use_cache: bool = True) -> list[str]:
    """The text planning path (parse the result with `text_format.parse_plan`)."""
    images = normalise_images(images_uint8, model.cfg.vision)
    prompts = driving_prompts(tokenizer, ego, past, instructions)
    return generate_texts(model, tokenizer, images, ego, past, prompts, True, None, use_cache)
