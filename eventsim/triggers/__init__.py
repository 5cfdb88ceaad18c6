"""Triggers: one module per kind, each binding functions to a resource (see ``base``); the
registry (``registry``) is the only place kinds are named."""
