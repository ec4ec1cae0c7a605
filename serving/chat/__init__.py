"""The chat model: vLLM behind Triton's decoupled Python backend."""
