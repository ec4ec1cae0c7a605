"""Triton adapter of the chat model; the logic is in serving.chat (importable without Triton)."""

import json
import os

import triton_python_backend_utils as pb_utils

try:
    import serving  # noqa: F401 - installed in the environment (Docker image)
except ImportError:  # running from a checkout
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[3]))

from common.settings import config_parameters
from serving.chat.config import ChatConfig
from serving.chat.engine import ChatEngine, Delta, EngineHooks, detect_device, prepare_process
from serving.chat.metrics import MetricsPump, stat_logger_factory, updates_for_abort
from serving.chat.request import INPUT_NAMES, RequestError, abort_target, parse_request
from serving.triton_adapters import TritonChatSink, TritonMetricSink, read_inputs


class TritonPythonModel:
    def initialize(self, args):
        model_config = json.loads(args["model_config"])
        device = detect_device()
        self.config = ChatConfig.resolve(
            config_parameters(model_config),
            os.environ,
            device=device,
            model_name=args["model_name"],
        )
        prepare_process(self.config, device=device)
        pb_utils.Logger.log_info(f"[chat] settings: {self.config.summary}")
        labels = {"model": args["model_name"], "version": args["model_version"]}
        self.metric_sink = TritonMetricSink(pb_utils)
        self.pump = MetricsPump(self.metric_sink, labels)
        self.pump.start()

        def on_abort(record):
            e2e = record.cancelled_at - record.arrival
            self.pump.put(
                updates_for_abort(e2e, record.prompt_tokens, record.generated_tokens, record.reason)
            )

        def on_health(healthy, reason):
            self.pump.put([("yap_chat_engine_healthy", (), 1.0 if healthy else 0.0)])
            if not healthy:
                pb_utils.Logger.log_error(f"[chat] engine dead: {reason}")

        loggers = [stat_logger_factory(self.pump)] if self.config.engine_metrics else []
        hooks = EngineHooks(on_abort=on_abort, stat_loggers=loggers, on_health=on_health)
        self.engine = ChatEngine(self.config, hooks)
        self.engine.start()
        pb_utils.Logger.log_info("[chat] engine ready")

    def execute(self, requests):
        for request in requests:
            sink = TritonChatSink(pb_utils, request)
            try:
                inputs = read_inputs(pb_utils, request, INPUT_NAMES)
                target = abort_target(inputs)
                if target is not None:  # a control request: stop that request now
                    found = self.engine.abort(target)
                    sink.finish(Delta(text="", token_ids_count=0, finish_reason=f"aborted {found}"))
                    continue
                sink.chat = parse_request(
                    inputs, request.parameters(), default_max_tokens=self.config.default_max_tokens
                )
            except RequestError as exc:
                sink.fail(str(exc))
                continue
            self.engine.submit(sink.chat, sink, label=request.request_id() or "chat")
        return None

    def finalize(self):
        self.engine.stop()
        self.pump.stop()
        self.metric_sink.close()
