"""Hub push: every missing piece (repo id, token, network) is reported before any upload."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from quantize import hub, metadata


def reachable(host: str, port: int, timeout_s: float) -> None:
    assert (host, port) == ("huggingface.co", 443)


def unreachable(host: str, port: int, timeout_s: float) -> None:
    raise OSError("[Errno -3] Temporary failure in name resolution")


def test_bad_repo_id() -> None:
    with pytest.raises(hub.HubError, match="expected a repo id like OWNER/NAME"):
        hub.check_ready("just-a-name", {"HF_TOKEN": "x"}, probe=reachable)


def test_no_token() -> None:
    with pytest.raises(hub.HubError, match="needs a hub token with write access: set HF_TOKEN"):
        hub.check_ready("me/model", {}, probe=reachable)


def test_offline_flag() -> None:
    env = {"HF_TOKEN": "x", "HF_HUB_OFFLINE": "1"}
    with pytest.raises(hub.HubError, match=r"switched off here \(HF_HUB_OFFLINE=1\)"):
        hub.check_ready("me/model", env, probe=reachable)


def test_no_network() -> None:
    with pytest.raises(
        hub.HubError, match=r"cannot reach https://huggingface.co .*name resolution"
    ):
        hub.check_ready("me/model", {"HF_TOKEN": "x"}, probe=unreachable)


def test_ready_returns_the_token_and_honours_the_endpoint() -> None:
    assert (
        hub.check_ready("me/model", {"HUGGING_FACE_HUB_TOKEN": " t0k "}, probe=reachable) == "t0k"
    )
    seen = []
    env = {"HF_TOKEN": "x", "HF_ENDPOINT": "http://hub.internal:8080/"}
    hub.check_ready("me/model", env, probe=lambda h, p, t: seen.append((h, p)))
    assert seen == [("hub.internal", 8080)]


def test_this_machine_refuses_with_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    """Here the hub is unreachable: the real probe must fail cleanly, not hang or crash."""
    monkeypatch.setenv("HF_TOKEN", "not-a-real-token")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(hub.HubError, match="HF_HUB_OFFLINE=1"):
        hub.check_ready("me/model")
    monkeypatch.delenv("HF_HUB_OFFLINE")
    monkeypatch.setenv("HF_ENDPOINT", "http://127.0.0.1:9")  # discard port: nothing listens
    with pytest.raises(hub.HubError, match=r"cannot reach http://127\.0\.0\.1:9"):
        hub.check_ready("me/model", timeout_s=2)


def test_only_exports_are_pushed(tmp_path: Path) -> None:
    with pytest.raises(hub.HubError, match=r"has no yap-quantization\.json.*python -m quantize"):
        hub.push_export(tmp_path, "me/model", environ={"HF_TOKEN": "x"}, probe=reachable)


def test_export_checks_happen_before_upload(tmp_path: Path) -> None:
    (tmp_path / metadata.METADATA_NAME).write_text(json.dumps({"label": "INT8 W8A8"}))
    with pytest.raises(hub.HubError, match="needs a hub token"):
        hub.push_export(tmp_path, "me/model", environ={}, probe=reachable)


def test_cli_reports_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert hub.main([str(tmp_path), "me/model"]) == 2
    assert "error:" in capsys.readouterr().err
