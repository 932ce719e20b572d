"""GPTQ INT4 of the LLM: standard HF GPTQ files, loading with GPTQModel and without it."""

import json

import pytest
import torch
from safetensors.torch import load_file

from vla_driving.engines import gptq
from vla_driving.engines.base import MissingDependencyError
from vla_driving.export.pipeline import calibration_token_ids, save_hf_llm
from vla_driving.engines.gptq_format import (GptqFormatError, dequantize_checkpoint,
                                             read_quantization_config)
from vla_driving.model.checkpoint import load_checkpoint

from export_test_helpers import GROUP_SIZE

pytest.importorskip("gptqmodel", reason="GPTQModel not installed (pip install 'vla_driving[gptq]')")

LINEARS = ("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj")
# Relative error of the last hidden state, int4 vs fp32 (untrained tiny LLM, group size 16).
MAX_REL_HIDDEN_ERROR = 0.15


@pytest.fixture(scope="module")
def quantized(tiny_checkpoint, samples, tmp_path_factory):
    model, tokenizer = load_checkpoint(tiny_checkpoint)
    root = tmp_path_factory.mktemp("gptq")
    save_hf_llm(model, tokenizer, root / "fp")
    ids = calibration_token_ids(tokenizer, samples, model.cfg.llm.max_positions)
    settings = gptq.GptqSettings(group_size=GROUP_SIZE, lm_head="full")  # the standard layout
    gptq.quantize_llm(root / "fp", root / "int4", ids, settings)
    return model, root / "int4"


def _rel_error(a: torch.Tensor, b: torch.Tensor) -> float:
    return ((a - b).norm() / b.norm()).item()


def _hidden(decoder, embeds):
    with torch.no_grad():
        return decoder(inputs_embeds=embeds).last_hidden_state.float()


def test_calibration_text_comes_from_the_driving_samples(tiny_checkpoint, samples):
    _, tokenizer = load_checkpoint(tiny_checkpoint)
    ids = calibration_token_ids(tokenizer, samples, 512)
    text = tokenizer.decode(ids[0][1:])
    assert samples[0]["instruction"] in text and "Plan:" in text
    assert all(len(x) > gptq.CALIBRATION_MIN_TOKENS for x in ids)


def test_saved_in_standard_hugging_face_gptq_format(quantized):
    model, directory = quantized
    qc = read_quantization_config(directory)
    assert (qc["quant_method"], qc["bits"], qc["group_size"]) == ("gptq", 4, GROUP_SIZE)
    assert qc["sym"] is True and qc["desc_act"] is False
    tensors = load_file(str(directory / "model.safetensors"))
    layers = model.cfg.llm.num_layers
    packed = [k for k in tensors if k.endswith(".qweight")]
    assert len(packed) == layers * len(LINEARS)
    for name in packed:
        prefix = name[: -len(".qweight")]
        assert {prefix + s for s in (".qzeros", ".scales", ".g_idx")} <= set(tensors)
        assert prefix + ".weight" not in tensors and tensors[name].dtype == torch.int32
    assert "model.embed_tokens.weight" in tensors  # embeddings stay full precision


def test_dequantized_weights_match_gptqmodel_and_the_original(quantized):
    model, directory = quantized
    ours = dequantize_checkpoint(directory)
    theirs = gptq.load_gptq_llm(directory, "cpu", kernel="torch").llm
    for i in range(model.cfg.llm.num_layers):
        for name in ("q_proj", "down_proj"):
            owner = "self_attn" if name == "q_proj" else "mlp"
            w = getattr(getattr(ours.model.layers[i], owner), name).weight
            q_layer = getattr(getattr(theirs.model.layers[i], owner), name)
            ref = q_layer.dequantize_weight().float().t()
            fp = getattr(getattr(model.llm.model.layers[i], owner), name).weight
            assert (w - ref).abs().max() < 2e-2 * fp.abs().max()   # bf16 rounding only
            assert _rel_error(w, fp) < 0.2                          # 4-bit quantization error


def test_quantized_llm_takes_inputs_embeds_close_to_fp32(quantized):
    model, directory = quantized
    llm = gptq.load_gptq_llm(directory, "cpu")
    embeds = torch.randn(2, 9, model.d_model, generator=torch.Generator().manual_seed(0))
    out = _hidden(llm.get_decoder(), embeds)
    ref = _hidden(model.llm.get_decoder(), embeds)
    print(f"int4 vs fp32 hidden-state relative error: {_rel_error(out, ref):.4f}")
    assert out.dtype == torch.float32 and out.shape == ref.shape
    assert _rel_error(out, ref) < MAX_REL_HIDDEN_ERROR


def test_the_cpu_default_gives_gptqmodels_torch_kernel_numbers_exactly(quantized):
    """`dequantized` (the CPU default) unpacks once at load what GPTQModel's torch kernel
    unpacks on every call; the hidden states, logits and embeddings must be the same bits."""
    model, directory = quantized
    theirs = gptq.load_gptq_llm(directory, "cpu", kernel="torch")
    ours = gptq.load_gptq_llm(directory, "cpu")
    assert not any(type(m).__module__.startswith("gptqmodel") for m in ours.modules())
    embeds = torch.randn(2, 9, model.d_model, generator=torch.Generator().manual_seed(1))
    mask = torch.ones(2, 9, dtype=torch.long)
    mask[1, 6:] = 0                                   # a right-padded prompt, as batches have
    with torch.no_grad():
        a = theirs.get_decoder()(embeds, attention_mask=mask).last_hidden_state
        b = ours.get_decoder()(embeds, attention_mask=mask).last_hidden_state
        assert torch.equal(a, b)
        assert torch.equal(theirs.get_output_embeddings()(a), ours.get_output_embeddings()(b))
        ids = torch.arange(20).view(2, 10)
        assert torch.equal(theirs.get_input_embeddings()(ids), ours.get_input_embeddings()(ids))


def test_without_gptqmodel_every_kernel_is_dequantized(quantized, monkeypatch):
    model, directory = quantized

    def missing():
        raise MissingDependencyError("'gptqmodel' is not installed")

    monkeypatch.setattr(gptq, "import_gptqmodel", missing)
    llm = gptq.load_gptq_llm(directory, "cpu", kernel="torch")
    embeds = torch.randn(1, 5, model.d_model)
    assert _rel_error(_hidden(llm.get_decoder(), embeds),
                      _hidden(model.llm.get_decoder(), embeds)) < MAX_REL_HIDDEN_ERROR
    with pytest.raises(ValueError, match="allowed values"):
        gptq.load_gptq_llm(directory, "cpu", kernel="marlin")


def test_unsupported_quantization_configs_are_refused(quantized, tmp_path):
    _, directory = quantized
    config = json.loads((directory / "config.json").read_text())
    for change, message in (({"quant_method": "awq"}, "no GPTQ quantization_config"),
                            ({"checkpoint_format": "gptq_v2"}, "only 'gptq'"),
                            ({"bits": 3}, "bits=3")):
        bad = dict(config, quantization_config=dict(config["quantization_config"], **change))
        (tmp_path / "config.json").write_text(json.dumps(bad))
        with pytest.raises(GptqFormatError, match=message):
            read_quantization_config(tmp_path)


def test_weight_byte_accounting_of_the_int4_llm(quantized):
    from vla_driving.export.bench_lib import llm_weight_bytes

    model, directory = quantized
    sizes = llm_weight_bytes(directory, bits=4)
    params = sum(p.numel() for p in model.llm.parameters())  # tied lm_head counted once
    assert sizes["params"] == params
    assert sizes["fp32_bytes"] == 2 * sizes["fp16_bytes"] == 4 * params
    # 4-bit codes + one fp16 scale and a 4-bit zero per 16 weights + int32 g_idx per row
    ratio = sizes["quantized_layers_fp16_bytes"] / sizes["quantized_layers_int4_bytes"]
    assert 2.5 < ratio < 4.0
