"""The pure (sans-I/O) layer of the Yap protocol.

A "§N" here and elsewhere in the code is a section of ``docs/protocol.md``, the wire protocol
this project implements.

Nothing in this package touches a socket, an event loop, Triton or a tokenizer. Each module
has one job; callers import from the module that owns a name:

* ``config``        -- ``BridgeConfig`` built once from the environment, and the env var table.
* ``errors``        -- every error code and close code, ``ProtocolError`` and message builders.
* ``frames``        -- one immutable class per server frame, each with ``to_json()``.
* ``messages``      -- ``parse_client_message``: a text frame in, a typed message or error out.
* ``validation``    -- field validation of ``start``, ``chat_prompt``, ``followup``, ``warm_*``,
  ``set_persona``, and the input prompt sanitiser.
* ``sampling``      -- per-turn sampling overrides (``start.sampling``).
* ``personalities`` -- the ``personalities`` table and its validation.
* ``ratelimit``     -- the sliding-window rate limiter.
* ``history``       -- the session history model, its text format and the chat message list.
* ``phrases``       -- the tool phrase filter and the ``toolcall`` frame mapping.
* ``cleaner``       -- the chat output sanitiser, whole-text and streaming.
* ``auth``          -- API key extraction and constant-time comparison.
* ``generation``    -- stop strings, priorities and phrase bias of chat requests (§11.3).
* ``sessions``      -- ``Session`` and ``SessionStore``: per-session state and its lifetime (§8).
* ``effects``       -- what the machines ask their shell to do (frames, budgets, turns, ...).
* ``turn_machine``  -- the rules of one turn: tool first, cleaned stream, stop, reply (§7).
* ``connection_machine`` -- what each message does in each state of a connection (§4.2).
"""
