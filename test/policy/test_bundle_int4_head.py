"""The INT4 LM head bundle (`--lm-head int4`, issue 21): export, verify, load, plan and size.

The tied embedding is not stored; the loader rebuilds it from the dequantized 4-bit head. Tiny
untrained checkpoint, real export, GPTQModel quantization and loading.
"""

import json
from pathlib import Path

import pytest
import torch
from safetensors import safe_open

from bundle_test_helpers import GROUP_SIZE, make_checkpoint, tiny_samples

from vla_driving.bundle import MANIFEST_FILE, Manifest, verify_bundle, write_manifest
from vla_driving.engines import gptq
from vla_driving.engines.base import MissingDependencyError
from vla_driving.engines.config import EngineConfig
from vla_driving.engines.gptq import GptqSettings
from vla_driving.engines.gptq_head import EMBED_KEY, TOKENIZER_COPY
from vla_driving.export.bench_lib import llm_dir_bytes
from vla_driving.export.pipeline import ExportSettings, build_bundle, save_hf_llm
from vla_driving.model.checkpoint import load_checkpoint
from vla_driving.model.inference import plan_actions
from vla_driving.policy.base import PolicyUnavailableError
from vla_driving.policy.bundle_loader import load_bundle

pytest.importorskip("gptqmodel", reason="GPTQModel not installed (pip install 'vla_driving[gptq]')")
torch.set_num_threads(2)

MAX_WAYPOINT_DIFF_M = 0.5          # untrained tiny model, as test_bundle_roundtrip
MAX_EMBEDDING_REL_ERROR = 0.25     # 4-bit codes, group 16, of random weights
CPU = EngineConfig(backend="onnxruntime", ort_providers=["cpu"])


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    root = tmp_path_factory.mktemp("int4_head")
    samples = tiny_samples(12)
    checkpoint = make_checkpoint(root / "ckpt")
    settings = ExportSettings(gptq=GptqSettings(group_size=GROUP_SIZE, lm_head="int4"))
    build_bundle(checkpoint, root / "bundle", samples, samples[:8], settings)
    return root / "bundle", checkpoint, samples


def _rel(a, b) -> float:
    return float((a.float() - b.float()).norm() / b.float().norm())


def test_head_is_int4_and_the_embedding_is_not_stored(exported):
    bundle, _, _ = exported
    manifest = verify_bundle(bundle)
    assert manifest.format_version == 2
    assert (manifest.llm["lm_head"], manifest.llm["embedding"]) == ("int4", "lm_head")
    with safe_open(str(bundle / "llm" / "model.safetensors"), "pt") as fh:
        names = set(fh.keys())
        assert fh.get_tensor("lm_head.qweight").shape[0] * 8 == fh.get_tensor(
            "lm_head.g_idx").shape[0]                       # 4 bits: 8 codes per int32 word
    assert EMBED_KEY not in names and "lm_head.weight" not in names
    dynamic = json.loads((bundle / "llm" / "config.json").read_text())[
        "quantization_config"]["dynamic"]
    assert dynamic["lm_head"]["bits"] == 4 and dynamic["lm_head"]["group_size"] == GROUP_SIZE


def test_loads_through_the_bundle_path_and_plans_like_the_checkpoint(exported):
    bundle, checkpoint, samples = exported
    loaded = load_bundle(bundle, CPU, device="cpu")
    reference, tokenizer = load_checkpoint(checkpoint)
    inner = loaded.model.llm.llm
    embedding = inner.get_input_embeddings().weight
    head = inner.get_output_embeddings().weight                      # the loaded 4-bit head
    assert _rel(embedding, head) < 1e-2             # one 4-bit matrix at both ends (bf16 rounding)
    assert _rel(embedding, reference.llm.get_input_embeddings().weight) < MAX_EMBEDDING_REL_ERROR
    stack = lambda key: torch.stack([torch.as_tensor(s[key]) for s in samples[:3]])  # noqa
    args = (stack("images"), stack("ego"), stack("past"), [s["instruction"] for s in samples[:3]])
    got = plan_actions(loaded.model, loaded.tokenizer, *args)
    want = plan_actions(reference, tokenizer, *args)
    assert got.waypoints.shape == want.waypoints.shape
    assert (got.waypoints - want.waypoints).abs().max().item() < MAX_WAYPOINT_DIFF_M


def test_without_gptqmodel_the_embedding_is_the_dequantized_head(exported, monkeypatch):
    bundle, checkpoint, _ = exported
    with_gptq = load_bundle(bundle, CPU, device="cpu").model.llm.llm

    def missing():
        raise MissingDependencyError("'gptqmodel' is not installed")

    monkeypatch.setattr(gptq, "import_gptqmodel", missing)
    plain = load_bundle(bundle, CPU, device="cpu").model.llm.llm
    assert torch.equal(plain.get_input_embeddings().weight, plain.lm_head.weight)
    assert _rel(plain.get_input_embeddings().weight,
                with_gptq.get_input_embeddings().weight) < 1e-2    # bf16 rounding only


def test_a_manifest_hiding_the_layout_is_refused(exported, tmp_path):
    """Re-hashed manifest that says the embedding is stored: refused, not randomly initialised."""
    import shutil

    bundle, _, _ = exported
    copy = tmp_path / "bundle"
    shutil.copytree(bundle, copy)
    data = json.loads((copy / MANIFEST_FILE).read_text())
    data["llm"]["embedding"], data["format_version"] = "stored", 1
    write_manifest(copy, Manifest.from_dict(data))
    with pytest.raises(PolicyUnavailableError, match="embed_tokens.weight is not stored"):
        load_bundle(copy, CPU, device="cpu")


def test_size_ratio_is_measured_against_a_real_fp16_export(exported, tmp_path):
    bundle, checkpoint, _ = exported
    manifest = verify_bundle(bundle)
    sizes = llm_dir_bytes(bundle / "llm", 4, embedding_from_head=True)
    shipped = sum(e.bytes for rel, e in manifest.files.items() if rel.startswith("llm/"))
    assert sizes["int4_dir_bytes"] == shipped
    assert not any((bundle / "llm" / name).exists() for name in TOKENIZER_COPY)
    model, tokenizer = load_checkpoint(checkpoint)
    model.llm.half()
    fp16_dir = save_hf_llm(model, tokenizer, tmp_path / "fp16")   # the same files, fp16
    real = sum(p.stat().st_size for p in fp16_dir.rglob("*")
               if p.is_file() and p.name not in TOKENIZER_COPY)
    assert abs(sizes["fp16_dir_bytes"] - real) < 0.01 * real     # config text differs slightly
    assert sizes["fp16_dir_bytes"] / sizes["int4_dir_bytes"] > 1.5


def test_old_tied_bundles_still_load():
    """models/default, exported before issue 21: 16-bit tied embedding, format version 1."""
    bundle = Path(__file__).resolve().parents[2] / "models" / "default"
    if not (bundle / MANIFEST_FILE).is_file():
        pytest.skip("models/default is not in this checkout")
    loaded = load_bundle(bundle, CPU, device="cpu")
    assert loaded.manifest.format_version == 1 and "embedding" not in loaded.manifest.llm
    inner = loaded.model.llm.llm
    assert inner.get_input_embeddings().weight is inner.get_output_embeddings().weight
