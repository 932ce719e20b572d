"""GPTQ INT4 on the CPU without GPTQModel: every packed layer is dequantized once, at load.

GPTQModel's torch kernel (the one it uses on a CPU) computes `x @ W + b` in bf16, where `W` is
`scales[g] * (q - zero[g])` rebuilt from the 4-bit words on every call (its weight cache is off
by default). This loader builds the same bf16 `W` once and multiplies the same way, so the
numbers are GPTQModel's (tested equal) while a forward skips the unpacking and a process skips
importing GPTQModel (torch inductor, datasets, accelerate: seconds per start). The 4-bit files
are unchanged; the weights take 16 bits in memory, which on a CPU holds the LLMs we ship.
"""

from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

from vla_driving.engines.gptq_format import (GptqFormatError, dequantize_io, packed_layer,
                                             packed_prefixes, read_checkpoint)

COMPUTE_DTYPE = torch.bfloat16        # GPTQModel's CPU dtype for these checkpoints


class DequantizedLinear(nn.Module):
    """A GPTQ linear whose weight is already dequantized: [in, out] in the compute dtype."""

    def __init__(self, weight_io: torch.Tensor, bias: torch.Tensor | None):
        super().__init__()
        self.in_features, self.out_features = weight_io.shape
        self.register_buffer("weight_io", weight_io.contiguous())
        self.register_buffer("bias", bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out_shape = x.shape[:-1] + (self.out_features,)
        out = torch.matmul(x.reshape(-1, self.in_features), self.weight_io).reshape(out_shape)
        if self.bias is not None:
            out.add_(self.bias)
        return out

    @property
    def weight(self) -> torch.Tensor:
        """`nn.Linear`'s [out, in] view, for code that reads a head's weight."""
        return self.weight_io.t()


def load_dequantized_llm(directory: str | Path, embedding_from_head: bool = False,
                         dtype: torch.dtype = COMPUTE_DTYPE) -> nn.Module:
    """The HF causal LM of a GPTQ checkpoint in `dtype`, its packed linears replaced by
    `DequantizedLinear` (`embedding_from_head`: the input embedding is the dequantized head)."""
    from transformers import AutoConfig, AutoModelForCausalLM

    from vla_driving.engines.gptq_head import EMBED_KEY, HEAD_KEY, LM_HEAD

    qc, data, tensors = read_checkpoint(directory)
    config = AutoConfig.for_model(data.pop("model_type"), **data)
    model = AutoModelForCausalLM.from_config(config, trust_remote_code=False, dtype=dtype)
    packed = packed_prefixes(tensors)
    for prefix in packed:
        try:
            model.get_submodule(prefix)
        except AttributeError:
            raise GptqFormatError(f"{directory}: packed layer {prefix} is not in the "
                                  f"architecture") from None
        bias = tensors.get(prefix + ".bias")
        model.set_submodule(prefix, DequantizedLinear(
            dequantize_io(*packed_layer(tensors, prefix), qc["bits"], dtype),
            None if bias is None else bias.to(dtype)))
    rest = {k: v.to(dtype) for k, v in tensors.items()
            if not any(k.startswith(p + ".") for p in packed)}
    if embedding_from_head:
        rest[EMBED_KEY] = model.get_submodule(LM_HEAD).weight.contiguous()
    missing, unexpected = model.load_state_dict(rest, strict=False)
    tied = config.tie_word_embeddings and LM_HEAD not in packed
    expected = {p + ".weight_io" for p in packed} | {p + ".bias" for p in packed} | \
        ({HEAD_KEY} if tied else set())
    missing = [k for k in missing if k not in expected]
    if missing or unexpected:
        raise GptqFormatError(f"{directory}: weights do not match the architecture (missing "
                              f"{missing[:5]}, unexpected {unexpected[:5]})")
    if tied:
        model.tie_weights()
    return model.eval()
