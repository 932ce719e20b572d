"""Offline tooling: checkpoint -> ONNX encoder + GPTQ LLM -> verified bundle, and engine benches."""
