"""``python -m quantize``: export a float causal-LM checkpoint as AWQ/GPTQ W4A16, FP8 or INT8.

Without ``--output`` the export goes to the cache the run command uses (``.yap/quantized``),
so a later ``QUANTIZATION=4bit|8bit`` start with the same options reuses it.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from common import paths
from quantize import calibration
from quantize.cache import ensure_export
from quantize.export import ExportError, ExportOptions, export
from quantize.hub import HubError, check_ready, push_export
from quantize.schemes import ALIASES, DEFAULT_GROUP_SIZE, SCHEMES, SchemeError


def build_parser() -> argparse.ArgumentParser:
    names = sorted(SCHEMES) + sorted(ALIASES) + ["4bit", "8bit"]
    parser = argparse.ArgumentParser(
        prog="python -m quantize",
        description="Export a float causal-LM checkpoint in compressed-tensors format "
        "with llmcompressor: AWQ/GPTQ W4A16 (4-bit), FP8 dynamic or INT8 W8A8 (8-bit).",
    )
    parser.add_argument(
        "model",
        nargs="?",
        default=str(paths.EMBEDDED_CHAT_DIR),
        help="float checkpoint folder (default: the embedded chat model)",
    )
    parser.add_argument(
        "--scheme",
        required=True,
        metavar="SCHEME",
        help=f"one of: {', '.join(names)} (4bit/8bit: the run command's default for this machine)",
    )
    parser.add_argument(
        "--output", type=Path, help="export folder (default: the cache under .yap/quantized)"
    )
    parser.add_argument("--overwrite", action="store_true", help="replace an existing --output")
    parser.add_argument(
        "--calibration",
        default="shipped",
        help="AWQ/GPTQ calibration data: 'shipped' (the project's set), a .txt/.jsonl/.json "
        "file, or hub:NAME[:SPLIT] where a hub is reachable (default: shipped)",
    )
    parser.add_argument(
        "--samples",
        type=int,
        default=calibration.DEFAULT_SAMPLES,
        help=f"calibration samples (default {calibration.DEFAULT_SAMPLES})",
    )
    parser.add_argument(
        "--seq-len",
        type=int,
        default=calibration.DEFAULT_SEQ_LEN,
        help=f"max tokens per calibration sample (default {calibration.DEFAULT_SEQ_LEN})",
    )
    parser.add_argument(
        "--group-size",
        type=int,
        default=DEFAULT_GROUP_SIZE,
        help=f"4-bit weight group size (default {DEFAULT_GROUP_SIZE}; falls back, announced, "
        "to the largest of 128/64/32 that divides every layer's width)",
    )
    parser.add_argument("--seed", type=int, default=calibration.DEFAULT_SEED, help="sample order")
    parser.add_argument(
        "--push-to-hub",
        metavar="OWNER/NAME",
        help="upload the export to this hub repo (needs HF_TOKEN and network)",
    )
    parser.add_argument("--public", action="store_true", help="a new hub repo is public")
    # Set by ensure_export when it runs the export in a child process.
    parser.add_argument("--cache-key", help=argparse.SUPPRESS)
    parser.add_argument("--source-hash", help=argparse.SUPPRESS)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    options = ExportOptions(
        group_size=args.group_size,
        calibration=args.calibration,
        samples=args.samples,
        seq_len=args.seq_len,
        seed=args.seed,
    )
    try:
        if args.push_to_hub:
            check_ready(args.push_to_hub)  # before a long export, not after
        if args.output is None:
            folder = ensure_export(args.model, args.scheme, options, in_process=True)
        else:
            from quantize.cache import resolve_scheme

            folder = export(
                args.model,
                resolve_scheme(args.scheme),
                args.output,
                options,
                overwrite=args.overwrite,
                cache_key=args.cache_key,
                source_hash=args.source_hash,
            )
        if args.push_to_hub:
            url = push_export(folder, args.push_to_hub, private=not args.public)
            print(f"[quantize] pushed {folder} to {url}")
    except (ExportError, SchemeError, HubError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(folder)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
