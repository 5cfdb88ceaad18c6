"""Execution environments that run handlers.

Kept import-light on purpose: the child process imports ``eventsim.runtime.worker`` at every
cold start, and that must not pull in pydantic or structlog.
"""
