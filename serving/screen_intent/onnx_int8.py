"""The classifier as an int8 ONNX Runtime session, for CPUs without fast bf16 matmuls.

On a CPU without AVX512-BF16/AMX, torch runs the classifier in fp32: about 40 ms per turn on
one AVX2 core, where the latency budget is 15 ms. The same checkpoint exported to ONNX and
dynamically quantized to int8 (weights int8 per output channel, activations quantized per
batch at run time) runs in 12-15 ms there and agrees with the fp32 decisions on 99.5 % of the
dev rows. Per-tensor weight scales were also measured (98.2 %) and are not used. The activation
scales are taken over the whole batch, so a turn batched with others (Triton's dynamic batcher)
can get a probability a few thousandths away from the one it gets alone.

The export takes a few seconds and is cached under the machine's cache folder, keyed by the
checkpoint's files, this module's recipe and the exporter's versions; a checkpoint that cannot
be exported raises :class:`ExportError` and the caller keeps torch.
"""

from __future__ import annotations

import hashlib
import inspect
import json
import logging
import os
import shutil
import tempfile
import warnings
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from common import paths

#: Bump when the export or quantization recipe changes: old cache entries are then ignored.
RECIPE = 2
#: The opset of the export; 17 has every op BERT-like encoders need, in one LayerNorm node.
OPSET = 17
#: The files of a checkpoint that decide its outputs.
_WEIGHT_SUFFIXES = (".safetensors", ".bin")
_INPUTS = ("input_ids", "attention_mask", "token_type_ids")
MODEL_FILE = "model.int8.onnx"


class ExportError(RuntimeError):
    """The checkpoint could not be exported or quantized; the message says why."""


def _versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    found = {}
    for name in ("torch", "onnx", "onnxruntime", "transformers"):
        try:
            found[name] = version(name)
        except PackageNotFoundError:
            found[name] = "missing"
    return found


def checkpoint_digest(model_dir: Path) -> str:
    """A digest of the checkpoint's config and weights, the recipe and the tool versions."""
    h = hashlib.sha256(json.dumps({"recipe": RECIPE, "opset": OPSET, **_versions()}).encode())
    files = sorted(
        p
        for p in model_dir.iterdir()
        if p.is_file() and (p.name == "config.json" or p.suffix in _WEIGHT_SUFFIXES)
    )
    if not any(p.suffix in _WEIGHT_SUFFIXES for p in files):
        raise ExportError(f"{model_dir} has no weight files (*.safetensors, *.bin)")
    for p in files:
        h.update(p.name.encode())
        with p.open("rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                h.update(block)
    return h.hexdigest()[:24]


def cache_root() -> Path:
    return paths.MACHINE_CACHE_DIR / "screen_intent_onnx"


def _export(model_dir: Path, out_dir: Path) -> None:
    """Export ``model_dir`` to ``out_dir/model.fp32.onnx`` and quantize it to ``MODEL_FILE``."""
    import torch
    from onnxruntime.quantization import QuantType, quantize_dynamic
    from transformers import AutoModelForSequenceClassification

    architectures = json.loads((model_dir / "config.json").read_text()).get("architectures")
    if not any(str(a).endswith("ForSequenceClassification") for a in architectures or ()):
        raise ExportError(
            f"{model_dir} is not a sequence-classification checkpoint (architectures: "
            f"{architectures})"
        )
    model = AutoModelForSequenceClassification.from_pretrained(model_dir, dtype=torch.float32)
    model.eval()
    accepted = inspect.signature(model.forward).parameters
    names = [n for n in _INPUTS if n in accepted]
    if "input_ids" not in names:
        raise ExportError(f"{model_dir}: the model's forward() takes no input_ids")

    class Logits(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.inner = model

        def forward(self, *tensors: Any) -> Any:
            return self.inner(**dict(zip(names, tensors, strict=True))).logits

    example = tuple(torch.ones(1, 8, dtype=torch.long) for _ in names)
    axes = {n: {0: "batch", 1: "tokens"} for n in names}
    fp32 = out_dir / "model.fp32.onnx"
    # the legacy (TorchScript) exporter: the dynamo one needs onnxscript and gives the same
    # graph here; its tracer warnings are about branches this fixed-shape model never takes
    quiet = logging.getLogger()
    level = quiet.level
    with torch.inference_mode(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            Logits(),
            example,
            str(fp32),
            input_names=names,
            output_names=["logits"],
            dynamic_axes={**axes, "logits": {0: "batch"}},
            opset_version=OPSET,
            dynamo=False,
        )
    quiet.setLevel(logging.ERROR)  # the quantizer logs a generic "consider pre-processing"
    try:
        quantize_dynamic(
            str(fp32), str(out_dir / MODEL_FILE), weight_type=QuantType.QInt8, per_channel=True
        )
    finally:
        quiet.setLevel(level)
    fp32.unlink()
    (out_dir / "inputs.json").write_text(json.dumps(names))


def ensure_int8(
    model_dir: Path, *, root: Path | None = None, log: Callable[[str], None] | None = None
) -> Path:
    """The int8 ONNX file of ``model_dir``, exported once per checkpoint and machine."""
    model_dir = Path(model_dir)
    root = root or cache_root()
    target = root / checkpoint_digest(model_dir)
    if (target / MODEL_FILE).is_file() and (target / "inputs.json").is_file():
        return target / MODEL_FILE
    root.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=".export-", dir=root))
    try:
        if log:
            log(f"exporting {model_dir} to int8 ONNX (once per checkpoint) in {target}")
        try:
            _export(model_dir, work)
        except ExportError:
            raise
        except Exception as exc:  # the exporter's and quantizer's errors are many and untyped
            raise ExportError(f"int8 ONNX export of {model_dir} failed: {exc}") from exc
        try:
            os.replace(work, target)
        except OSError:  # another process exported it first: use theirs
            if not (target / MODEL_FILE).is_file():
                raise
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return target / MODEL_FILE


class Int8Session:
    """An ONNX Runtime session of an exported classifier: ``logits(encoded)`` as numpy."""

    def __init__(self, model_file: Path, threads: int) -> None:
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        # no busy-waiting between requests: the chat engine shares these cores
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        self.session = ort.InferenceSession(
            str(model_file), options, providers=["CPUExecutionProvider"]
        )
        self.inputs = [i.name for i in self.session.get_inputs()]

    def logits(self, encoded: Mapping[str, Any]) -> Any:
        """Logits of a padded batch, one row per session run, without its padding: dynamic
        quantisation scales activations over the whole input, so in one run a row's answer
        would depend on the rows beside it (and their padding). Alone is also faster on these
        CPUs: 3.6 against 4.4 ms a row in batches of 8, with no padding to compute."""
        import numpy as np

        ids = np.asarray(encoded["input_ids"], dtype=np.int64)
        tensors = {}
        for name in self.inputs:
            value = encoded.get(name)
            if value is None:  # token_type_ids of a single-segment tokenizer
                value = np.zeros_like(ids)
            tensors[name] = np.asarray(value, dtype=np.int64)
        mask = np.asarray(encoded.get("attention_mask", np.ones_like(ids))).astype(bool)
        rows = [
            self.session.run(
                ["logits"], {name: value[i : i + 1, mask[i]] for name, value in tensors.items()}
            )[0]
            for i in range(ids.shape[0])
        ]
        return np.concatenate(rows)
