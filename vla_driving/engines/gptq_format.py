"""Read the Hugging Face GPTQ checkpoint format without GPTQModel (documented layout).

A GPTQ linear layer `L` (in_features I, out_features O, b bits, group size G) is stored as
`L.qweight` int32 [I*b/32, O] (b-bit values packed along the input dim, lowest bits first),
`L.qzeros` int32 [I/G, O*b/32] (packed along the output dim), `L.scales` fp16 [I/G, O] and
`L.g_idx` int32 [I] (the group of each input row). In checkpoint format "gptq" (v1) the stored
zero point is the true one minus 1. The weight is `W[i, o] = scales[g, o] * (q[i, o] - zero[g, o])`
with g = g_idx[i]; `nn.Linear.weight` is its transpose.
"""

from __future__ import annotations

import json
from pathlib import Path

import torch

SUPPORTED_BITS = (2, 4, 8)
PACK_BITS = 32
QWEIGHT = ".qweight"


class GptqFormatError(ValueError):
    """The directory is not a GPTQ checkpoint this reader understands."""


def read_quantization_config(directory: str | Path) -> dict:
    """`quantization_config` of `config.json`, checked to be one this reader supports."""
    path = Path(directory) / "config.json"
    if not path.is_file():
        raise GptqFormatError(f"{directory}: no config.json")
    qc = json.loads(path.read_text()).get("quantization_config")
    if not qc or qc.get("quant_method") != "gptq":
        raise GptqFormatError(f"{path}: no GPTQ quantization_config (quant_method gptq)")
    if qc.get("bits") not in SUPPORTED_BITS:
        raise GptqFormatError(f"{path}: bits={qc.get('bits')} not in {SUPPORTED_BITS}")
    fmt = qc.get("checkpoint_format", "gptq")
    if fmt != "gptq":
        raise GptqFormatError(f"{path}: checkpoint_format={fmt!r}; only 'gptq' (v1) is read")
    return qc


def _unpack(packed: torch.Tensor, bits: int, dim: int) -> torch.Tensor:
    """Unpack b-bit values from int32 words along `dim` (0: rows, 1: columns)."""
    per_word = PACK_BITS // bits
    shifts = torch.arange(per_word, dtype=torch.int32) * bits
    mask = (1 << bits) - 1
    if dim == 0:
        values = (packed.unsqueeze(1) >> shifts.view(1, -1, 1)) & mask
        return values.reshape(packed.shape[0] * per_word, packed.shape[1])
    values = (packed.unsqueeze(2) >> shifts.view(1, 1, -1)) & mask
    return values.reshape(packed.shape[0], packed.shape[1] * per_word)


def dequantize_io(qweight: torch.Tensor, qzeros: torch.Tensor, scales: torch.Tensor,
                  g_idx: torch.Tensor, bits: int, dtype: torch.dtype = torch.float32
                  ) -> torch.Tensor:
    """[I, O] weight of one packed GPTQ layer in `dtype`: the integer difference times the
    scale, both in `dtype` (in bf16, the rounding of GPTQModel's torch kernel)."""
    q = _unpack(qweight.to(torch.int32), bits, dim=0)          # [I, O]
    zeros = _unpack(qzeros.to(torch.int32), bits, dim=1) + 1   # [G, O], v1 -> true zero
    g = g_idx.long()
    return scales.to(dtype)[g] * (q - zeros[g, : q.shape[1]]).to(dtype)


def dequantize_linear(qweight: torch.Tensor, qzeros: torch.Tensor, scales: torch.Tensor,
                      g_idx: torch.Tensor, bits: int) -> torch.Tensor:
    """float32 `nn.Linear.weight` [O, I] of one packed GPTQ layer."""
    return dequantize_io(qweight, qzeros, scales, g_idx, bits).t().contiguous()


def packed_layer(tensors: dict[str, torch.Tensor], prefix: str) -> tuple[torch.Tensor, ...]:
    """(qweight, qzeros, scales, g_idx) of the packed layer `prefix`."""
    return tuple(tensors[prefix + s] for s in (QWEIGHT, ".qzeros", ".scales", ".g_idx"))


def packed_prefixes(tensors: dict[str, torch.Tensor]) -> list[str]:
    """The module names of the packed layers of a GPTQ state dict."""
    return sorted(k[: -len(QWEIGHT)] for k in tensors if k.endswith(QWEIGHT))


def read_checkpoint(directory: str | Path) -> tuple[dict, dict, dict[str, torch.Tensor]]:
    """(quantization_config, the rest of `config.json`, every stored tensor) of a GPTQ
    checkpoint this reader supports."""
    from safetensors.torch import load_file

    directory = Path(directory)
    qc = read_quantization_config(directory)
    data = json.loads((directory / "config.json").read_text())
    data.pop("quantization_config")
    tensors: dict[str, torch.Tensor] = {}
    for path in sorted(directory.glob("*.safetensors")):
        tensors.update(load_file(str(path)))
    return qc, data, tensors


def dequantized_state_dict(tensors: dict[str, torch.Tensor], bits: int) -> dict[str, torch.Tensor]:
    """Replace every packed layer of a GPTQ state dict by its float32 weight."""
    out = {}
    prefixes = packed_prefixes(tensors)
    for name, value in tensors.items():
        if any(name.startswith(p + ".") for p in prefixes) and not name.endswith(".bias"):
            continue
        out[name] = value.float() if value.is_floating_point() else value
    for p in prefixes:
        out[p + ".weight"] = dequantize_linear(*packed_layer(tensors, p), bits)
    return out


def dequantize_checkpoint(directory: str | Path, embedding_from_head: bool = False
                          ) -> torch.nn.Module:
    """A float32 HF causal LM with the dequantized weights of a GPTQ checkpoint
    (`embedding_from_head`: the input embedding is the dequantized LM head, `gptq_head`)."""
    from vla_driving.engines.gptq_head import EMBED_KEY, HEAD_KEY

    from transformers import AutoConfig, AutoModelForCausalLM

    qc, data, tensors = read_checkpoint(directory)
    if embedding_from_head:   # the checkpoint's tie, restored: one matrix for both ends
        data["tie_word_embeddings"] = True
    config = AutoConfig.for_model(data.pop("model_type"), **data)
    config._attn_implementation = "eager"
    model = AutoModelForCausalLM.from_config(config, trust_remote_code=False).float()
    state = dequantized_state_dict(tensors, qc["bits"])
    if embedding_from_head:
        state[EMBED_KEY] = state.pop(HEAD_KEY)
    missing, unexpected = model.load_state_dict(state, strict=False)
    tied = {"lm_head.weight"} if config.tie_word_embeddings else set()
    if set(missing) - tied or unexpected:
        raise GptqFormatError(f"{directory}: weights do not match the architecture (missing "
                              f"{sorted(set(missing) - tied)[:5]}, unexpected {unexpected[:5]})")
    if tied:
        model.tie_weights()
    return model.eval()
