"""What the bridge, the Triton-side code (``serving``, ``model_repository``) and ``quantize`` share.

* ``settings``   -- the settings kernel: declare, parse, resolve and document settings.
* ``generation`` -- how a chat turn generates: token budgets, sampling defaults and ranges (§14),
  stop strings, priorities, phrase bias (§11.3); settings both the bridge and the ensemble read.
* ``deploy``     -- deploy modes and the Triton models each one loads.
* ``history``    -- the session history, its text format and the chat message list (§8, §11).
* ``paths``      -- where the project keeps its local, git-ignored state.
* ``digest``     -- content hashes of files.

A "§N" is a section of ``docs/protocol.md``. This package imports only the standard library,
so every other package may import it and none is imported back.
"""
