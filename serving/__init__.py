"""Triton-side code of Yap: what the Python-backend models in ``model_repository/`` import.

Each ``model.py`` stays a thin adapter of Triton's API; the logic lives here so that it can be
imported and tested without a running Triton server.
"""
