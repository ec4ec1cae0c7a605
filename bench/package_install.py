"""Side by side, one run: how long ``scripts/install-packages.sh`` takes to install the lock into
a new venv with pip and with uv, as on a new machine (no pip cache, an empty uv cache), runs
alternated (pip, uv, uv, pip, ...) so that steal time and disk caches hit both alike.

    .venv/bin/python -m bench.package_install [--rounds 2]

Each run gets a new venv and new, empty caches in a temporary folder (removed afterwards).
Writes ``bench/results/package-install.{md,json}``.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.machine import machine_facts, write_results

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "scripts" / "install-packages.sh"


def _python() -> str:
    """The interpreter new venvs are made from (the one the project venv was made from)."""
    return getattr(sys, "_base_executable", None) or sys.executable


def install_once(installer: str, workdir: Path) -> dict[str, Any]:
    venv = workdir / "venv"
    subprocess.run([_python(), "-m", "venv", str(venv)], check=True)
    env = dict(os.environ)
    env.update(
        YAP_INSTALLER=installer,
        PIP_NO_CACHE_DIR="1",
        UV_CACHE_DIR=str(workdir / "uv-cache"),
    )
    started = time.perf_counter()
    done = subprocess.run(
        [str(SCRIPT), str(venv)], cwd=ROOT, env=env, capture_output=True, text=True
    )
    seconds = time.perf_counter() - started
    last = (done.stdout.strip().splitlines() or [""])[-1]
    if done.returncode != 0 or not last.endswith(f"installed by {installer}"):
        tail = "\n".join((done.stdout + done.stderr).splitlines()[-15:])
        raise SystemExit(f"{installer}: install failed (exit {done.returncode}):\n{tail}")
    check = subprocess.run(
        [str(venv / "bin" / "python"), "-c", "import torch, transformers, vllm, tritonclient"],
        capture_output=True,
        text=True,
    )
    if check.returncode != 0:
        raise SystemExit(f"{installer}: the venv does not import: {check.stderr[-500:]}")
    return {"installer": installer, "seconds": round(seconds, 1)}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=2, help="runs of each installer")
    args = ap.parse_args(argv)
    if args.rounds < 1:
        ap.error("--rounds must be >= 1")
    facts = machine_facts()
    order = [("pip", "uv") if r % 2 == 0 else ("uv", "pip") for r in range(args.rounds)]
    runs: list[dict[str, Any]] = []
    for pair in order:
        for installer in pair:
            workdir = Path(tempfile.mkdtemp(prefix=f"yap-install-{installer}-"))
            try:
                runs.append(install_once(installer, workdir))
            finally:
                shutil.rmtree(workdir, ignore_errors=True)
            print(f"{installer}: {runs[-1]['seconds']} s", flush=True)
    median = {
        name: statistics.median(r["seconds"] for r in runs if r["installer"] == name)
        for name in ("pip", "uv")
    }
    result = {
        "runs": runs,
        "median_seconds": median,
        "speedup": round(median["pip"] / median["uv"], 2),
        "packages": sum(
            1
            for line in (ROOT / "requirements" / "lock.txt").read_text().splitlines()
            if "==" in line and not line.lstrip().startswith("#")
        ),
        "machine": facts,
    }
    lines = [
        f"{result['packages']} pinned packages (`requirements/lock.txt`, `--no-deps`), "
        "no pip cache, an empty uv cache, runs alternated; each venv imports torch, "
        "transformers, vllm and tritonclient afterwards.",
        "",
        "| run | installer | seconds |",
        "|---|---|---|",
    ]
    lines += [f"| {i + 1} | {r['installer']} | {r['seconds']} |" for i, r in enumerate(runs)]
    lines += [
        "",
        f"Median: pip {median['pip']} s, uv {median['uv']} s: uv is {result['speedup']}x faster.",
        "",
    ]
    title = "Installing the lock into a new venv: pip vs uv (side by side, one run)"
    print(write_results("package-install", title, result, lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
