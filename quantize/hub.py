"""Push an export to a model hub (``--push-to-hub OWNER/NAME``), only when asked explicitly.

Everything that can be checked before a long export is checked first (``check_ready``): the
repo id, a token (``HF_TOKEN``), that the hub is not switched off (``HF_HUB_OFFLINE``) and that
its host answers. Each failure says what to do.
"""

from __future__ import annotations

import os
import re
import socket
from collections.abc import Callable, Mapping
from pathlib import Path
from urllib.parse import urlparse

from quantize import metadata

DEFAULT_ENDPOINT = "https://huggingface.co"
REPO_ID = re.compile(r"^[A-Za-z0-9][\w.-]*/[A-Za-z0-9][\w.-]*$")
TOKEN_VARS = ("HF_TOKEN", "HUGGING_FACE_HUB_TOKEN")
TRUE = {"1", "true", "yes", "on"}

Probe = Callable[[str, int, float], None]


class HubError(RuntimeError):
    """The export cannot be pushed; the message says why and how to fix it."""


def _connect(host: str, port: int, timeout_s: float) -> None:
    with socket.create_connection((host, port), timeout=timeout_s):
        pass


def endpoint(environ: Mapping[str, str]) -> str:
    return (environ.get("HF_ENDPOINT") or DEFAULT_ENDPOINT).rstrip("/")


def find_token(environ: Mapping[str, str]) -> str | None:
    for name in TOKEN_VARS:
        if environ.get(name, "").strip():
            return environ[name].strip()
    return None


def check_ready(
    repo: str,
    environ: Mapping[str, str] | None = None,
    *,
    probe: Probe = _connect,
    timeout_s: float = 5.0,
) -> str:
    """The token to push ``repo`` with, or ``HubError`` saying what is missing."""
    env = os.environ if environ is None else environ
    if not REPO_ID.match(repo):
        raise HubError(f"--push-to-hub {repo!r}: expected a repo id like OWNER/NAME")
    token = find_token(env)
    if token is None:
        raise HubError(
            "--push-to-hub needs a hub token with write access: set HF_TOKEN "
            f"(create one at {endpoint(env)}/settings/tokens)"
        )
    if env.get("HF_HUB_OFFLINE", "").strip().lower() in TRUE:
        raise HubError(
            "--push-to-hub: the hub is switched off here (HF_HUB_OFFLINE=1). Run the push "
            "from a machine with network access, with HF_HUB_OFFLINE unset"
        )
    url = urlparse(endpoint(env))
    host = url.hostname or ""
    port = url.port or (443 if url.scheme == "https" else 80)
    try:
        probe(host, port, timeout_s)
    except OSError as exc:
        raise HubError(
            f"--push-to-hub: cannot reach {endpoint(env)} ({exc}); no network to the hub from "
            "this machine. The export is kept locally; push it later from a connected machine "
            "with `python -m quantize.hub FOLDER OWNER/NAME`"
        ) from None
    return token


def push_export(
    folder: Path | str,
    repo: str,
    *,
    private: bool = True,
    environ: Mapping[str, str] | None = None,
    probe: Probe = _connect,
) -> str:
    """Upload an export folder to ``repo`` (created if missing); return the repo's URL."""
    path = Path(folder)
    try:
        record = metadata.read_metadata(path)
    except metadata.MetadataError as exc:
        raise HubError(f"{exc}; push only folders made by `python -m quantize`") from None
    token = check_ready(repo, environ, probe=probe)
    from huggingface_hub import HfApi
    from huggingface_hub.errors import HfHubHTTPError

    api = HfApi(token=token, endpoint=endpoint(os.environ if environ is None else environ))
    try:
        url = api.create_repo(repo, private=private, exist_ok=True, repo_type="model")
        api.upload_folder(
            folder_path=str(path),
            repo_id=repo,
            repo_type="model",
            commit_message=f"{record.get('label', 'quantized')} export of "
            f"{record.get('source', {}).get('name', 'a model')} (yap quantize)",
        )
    except (HfHubHTTPError, OSError) as exc:
        raise HubError(f"pushing {path} to {repo} failed: {exc}") from None
    return str(url)


def main(argv: list[str] | None = None) -> int:
    import argparse
    import sys

    parser = argparse.ArgumentParser(description="push a quantize export to a model hub")
    parser.add_argument("folder", type=Path)
    parser.add_argument("repo", help="OWNER/NAME")
    parser.add_argument("--public", action="store_true", help="make a new repo public")
    args = parser.parse_args(argv)
    try:
        url = push_export(args.folder, args.repo, private=not args.public)
    except HubError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"[quantize] pushed {args.folder} to {url}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
