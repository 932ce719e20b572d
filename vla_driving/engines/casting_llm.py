"""A float32 face on a half-precision (e.g. GPTQ bf16-kernel) causal LM.

`VLAModel` builds its sequence in float32 (visual tokens, state token, action queries) and its
action head reads float32 hidden states. This wrapper exposes the three things the model uses
(`get_input_embeddings`, `get_decoder`, `get_output_embeddings`) and casts at the boundary, so
the projector and head stay in full precision whatever the LLM's compute dtype.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn


@dataclass
class DecoderOutput:
    last_hidden_state: torch.Tensor
    cache: Any = None


class _CastEmbedding(nn.Module):
    def __init__(self, inner: nn.Embedding):
        super().__init__()
        self.inner = inner
        self.embedding_dim = inner.embedding_dim
        self.num_embeddings = inner.num_embeddings

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        return self.inner(ids).float()


class _CastLinear(nn.Module):
    def __init__(self, inner: nn.Module, dtype: torch.dtype):
        super().__init__()
        self.inner, self.dtype = inner, dtype

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.inner(x.to(self.dtype)).float()


class _CastDecoder(nn.Module):
    """Accepts `cache` or `past_key_values` and passes it on under the inner model's name."""

    def __init__(self, inner: nn.Module, dtype: torch.dtype):
        super().__init__()
        self.inner, self.dtype = inner, dtype
        params = inspect.signature(inner.forward).parameters
        self.cache_name = "cache" if "cache" in params else "past_key_values"

    def forward(self, inputs_embeds: torch.Tensor, attention_mask=None, use_cache: bool = False,
                cache=None, past_key_values=None) -> DecoderOutput:
        given = cache if cache is not None else past_key_values
        kwargs = {self.cache_name: given} if given is not None else {}
        out = self.inner(inputs_embeds=inputs_embeds.to(self.dtype), attention_mask=attention_mask,
                         use_cache=use_cache, **kwargs)
        new_cache = getattr(out, "cache", None) or getattr(out, "past_key_values", None)
        return DecoderOutput(out.last_hidden_state.float(), new_cache)


def compute_dtype(llm: nn.Module) -> torch.dtype:
    """The floating dtype the LLM computes in (its input embedding's)."""
    return llm.get_input_embeddings().weight.dtype


class CastingLLM(nn.Module):
    """Wraps a HF causal LM; everything in and out of it is float32."""

    def __init__(self, llm: nn.Module):
        super().__init__()
        self.llm = llm
        self.dtype = compute_dtype(llm)
        self._embed = _CastEmbedding(llm.get_input_embeddings())
        self._decoder = _CastDecoder(llm.get_decoder(), self.dtype)
        self._lm_head = _CastLinear(llm.get_output_embeddings(), self.dtype)

    @property
    def config(self):
        return self.llm.config

    def get_input_embeddings(self) -> nn.Module:
        return self._embed

    def get_decoder(self) -> nn.Module:
        return self._decoder

    def get_output_embeddings(self) -> nn.Module:
        return self._lm_head
