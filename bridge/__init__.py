"""The Yap WebSocket bridge: the protocol in front of Triton (see docs/protocol.md)."""
