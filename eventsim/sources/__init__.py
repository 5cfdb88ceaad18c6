"""Sources notice triggers (files, rows, messages, ticks) and hand them on through ``emit``.

A source knows nothing of routers or handlers; see ``base.Source``.
"""
