"""VisualFrontend exports to ONNX (input `images`, output `visual_embeds`, dynamic batch)."""

import numpy as np
import pytest
import torch

from vla_test_helpers import inputs, small_model

ort = pytest.importorskip("onnxruntime")
pytest.importorskip("onnx")


def test_frontend_onnx_matches_torch_for_any_batch(tmp_path):
    torch.set_num_threads(1)
    model = small_model()
    images, _, _ = inputs(batch=2)
    path = tmp_path / "frontend.onnx"
    torch.onnx.export(model.frontend, (images,), str(path), input_names=["images"],
                      output_names=["visual_embeds"], opset_version=17, dynamo=False,
                      dynamic_axes={"images": {0: "batch"}, "visual_embeds": {0: "batch"}})
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    for batch in (1, 3):
        x = torch.randn(batch, *images.shape[1:])
        got = session.run(["visual_embeds"], {"images": x.numpy()})[0]
        with torch.no_grad():
            want = model.frontend(x).numpy()
        np.testing.assert_allclose(got, want, atol=1e-5)
