"""Quantized exports of chat checkpoints (llmcompressor) and detection of pre-quantized ones."""
