"""Operations code of Yap: what runs the service, not what the Triton models import.

* ``stack``           -- the supervisor (``python -m ops.stack``): settings check, Triton, bridge.
* ``preflight``       -- every setting of a deploy mode checked before anything starts.
* ``triton_server``   -- the tritonserver dist and one server process on its own ports.
* ``embedded_models`` -- prepares the embedded default models (``python -m ops.embedded_models``).
* ``importcheck``     -- imports what the models and the bridge load (an image build step).
* ``docs``            -- the README's generated settings tables (``python -m ops.docs``).

It may import every other package of the project; none imports it back, and no Triton model
loads it (``tests/unit/test_import_layers.py``).
"""
