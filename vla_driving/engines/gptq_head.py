"""An INT4 LM head that also serves as the input embedding (the checkpoint's tie, kept in 4 bits).

Our LLM ties its token embedding and LM head, and GPTQModel quantizes only linears: left alone,
the tied matrix stays in 16 bits and is a third of the INT4 files. With `GptqSettings.lm_head`
`int4` the export unties the matrix, GPTQModel quantizes `lm_head` as a 4-bit linear (calibrated
on the final hidden states) and the stored 16-bit `embed_tokens` copy is dropped; the loader
rebuilds the embedding from the dequantized head, so one 4-bit copy serves both ends, as the
tie did in 16 bits. The bundle manifest records it (`llm.embedding: lm_head`, format version 2),
so a runtime that does not know this layout refuses the bundle instead of a random embedding.
"""

from __future__ import annotations

import json
from pathlib import Path

import torch

from vla_driving.engines.gptq_format import GptqFormatError

LM_HEAD = "lm_head"
EMBED_KEY = "model.embed_tokens.weight"
HEAD_KEY = "lm_head.weight"
INDEX_FILE = "model.safetensors.index.json"
TOKENIZER_COPY = ("tokenizer.json", "tokenizer_config.json")
# `embedding` values of the manifest's llm entry
EMBEDDING_STORED = "stored"
EMBEDDING_FROM_HEAD = "lm_head"


def untie_hf_dir(directory: str | Path) -> bool:
    """Give a saved HF LLM its own `lm_head.weight` (a copy of the tied embedding) so GPTQModel
    can quantize it; returns whether it was tied."""
    from safetensors.torch import load_file, save_file

    directory = Path(directory)
    config_path = directory / "config.json"
    config = json.loads(config_path.read_text())
    if not config.get("tie_word_embeddings", False):
        return False
    files = sorted(directory.glob("*.safetensors"))
    if len(files) != 1:
        raise ValueError(f"{directory}: untying expects one safetensors file, found {len(files)}")
    tensors = load_file(str(files[0]))
    tensors[HEAD_KEY] = tensors[EMBED_KEY].clone()
    save_file(tensors, str(files[0]), metadata={"format": "pt"})
    config["tie_word_embeddings"] = False
    config_path.write_text(json.dumps(config, indent=2))
    return True


def drop_input_embedding(directory: str | Path) -> int:
    """Remove the 16-bit `embed_tokens` from a quantized LLM whose head is its 4-bit copy;
    returns the bytes saved."""
    from safetensors import safe_open
    from safetensors.torch import load_file, save_file

    directory = Path(directory)
    saved = 0
    for path in sorted(directory.glob("*.safetensors")):
        with safe_open(str(path), "pt") as fh:
            if EMBED_KEY not in fh.keys():
                continue
            metadata = fh.metadata() or {"format": "pt"}   # kept as the quantizer wrote it
        before = path.stat().st_size
        tensors = load_file(str(path))
        del tensors[EMBED_KEY]
        save_file(tensors, str(path), metadata=metadata)
        saved += before - path.stat().st_size
    index = directory / INDEX_FILE
    if index.is_file():
        data = json.loads(index.read_text())
        data.get("weight_map", {}).pop(EMBED_KEY, None)
        index.write_text(json.dumps(data, indent=2))
    if not saved:
        raise ValueError(f"{directory}: no {EMBED_KEY} to drop")
    return saved


def drop_tokenizer_copy(directory: str | Path) -> None:
    """Remove the LLM dir's copy of the tokenizer: a bundle keeps one, at its root (the runtime
    reads that one), and an LLM dir without its embedding needs our loader anyway."""
    for name in TOKENIZER_COPY:
        (Path(directory) / name).unlink(missing_ok=True)


def stored_tensor_names(directory: str | Path) -> set[str]:
    """Names of the tensors in a directory's safetensors files (headers only)."""
    from safetensors import safe_open

    names: set[str] = set()
    for path in sorted(Path(directory).glob("*.safetensors")):
        with safe_open(str(path), "pt") as fh:
            names.update(fh.keys())
    return names


def check_embedding_layout(directory: str | Path, from_head: bool) -> None:
    """Refuse a directory whose stored tensors contradict the declared embedding layout: a
    missing embedding would otherwise be randomly initialised by the HF loader, silently."""
    names = stored_tensor_names(directory)
    if from_head and "lm_head.qweight" not in names:
        raise GptqFormatError(f"{directory}: the embedding is declared to come from the INT4 "
                              f"LM head, but there is no lm_head.qweight")
    if not from_head and EMBED_KEY not in names:
        raise GptqFormatError(f"{directory}: {EMBED_KEY} is not stored; the bundle must "
                              f"declare llm.embedding '{EMBEDDING_FROM_HEAD}' (re-export it)")


def dequantized_head(directory: str | Path) -> torch.Tensor:
    """float32 [vocab, hidden] weight of the stored INT4 LM head, read from the files with our
    GPTQ reader, so it does not depend on which GPTQModel kernel (and its repacking) runs."""
    from safetensors import safe_open

    from vla_driving.engines.gptq_format import (dequantize_linear, packed_layer,
                                                 read_quantization_config)

    qc = read_quantization_config(directory)
    bits = (qc.get("dynamic") or {}).get(LM_HEAD, {}).get("bits", qc["bits"])
    parts = {}
    for path in sorted(Path(directory).glob("*.safetensors")):
        with safe_open(str(path), "pt") as fh:
            parts.update({k: fh.get_tensor(k) for k in fh.keys() if k.startswith(LM_HEAD + ".")})
    return dequantize_linear(*packed_layer(parts, LM_HEAD), bits)


@torch.no_grad()
def set_embedding_from_head(llm: torch.nn.Module, directory: str | Path) -> None:
    """Set a loaded LLM's input embedding to its dequantized 4-bit LM head (in the LLM's dtype)."""
    weight = dequantized_head(directory)
    embedding = llm.get_input_embeddings().weight
    if weight.shape != embedding.shape:
        raise GptqFormatError(f"{directory}: LM head {tuple(weight.shape)} cannot serve as the "
                              f"embedding {tuple(embedding.shape)}")
    embedding.copy_(weight.to(embedding.dtype))
