"""VisualFrontend exports to ONNX (input `images`, output `visual_embeds`, dynamic batch),
through the exporter the bundle export uses (torch.export-based, `export_frontend`)."""

import numpy as np
import pytest
import torch

from vla_test_helpers import inputs, small_model

from vla_driving.export.onnx_frontend import INPUT_NAME, OUTPUT_NAME, export_frontend

ort = pytest.importorskip("onnxruntime")
pytest.importorskip("onnx")


def test_frontend_onnx_matches_torch_for_any_batch(tmp_path):
    torch.set_num_threads(1)
    model = small_model()
    images, _, _ = inputs(batch=2)
    path = tmp_path / "frontend.onnx"
    inputs_spec, outputs_spec = export_frontend(model.frontend, images, path)
    assert (INPUT_NAME, OUTPUT_NAME) == ("images", "visual_embeds")   # the engine contract
    assert [s.name for s in inputs_spec] == [INPUT_NAME]
    assert [s.name for s in outputs_spec] == [OUTPUT_NAME]
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    for batch in (1, 3):
        x = torch.randn(batch, *images.shape[1:])
        got = session.run([OUTPUT_NAME], {INPUT_NAME: x.numpy()})[0]
        with torch.no_grad():
            want = model.frontend(x).numpy()
        np.testing.assert_allclose(got, want, atol=1e-5)
