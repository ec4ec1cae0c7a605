"""The OpenAI-compatible front door: ``POST /v1/chat/completions`` and ``GET /v1/models``.

``request`` (parse and validate a request body), ``conversation`` (messages to a Yap turn),
``errors`` (OpenAI's error shape) and ``responses`` (chunks, whole replies, SSE) are pure;
``server`` is the aiohttp shell that runs each request as a Yap turn over Triton.
"""
