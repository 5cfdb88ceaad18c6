from pathlib import Path

import pytest


@pytest.fixture
def eventsim_config():
    # Your project would keep config/eventsim.yaml at its root, the default.
    return Path(__file__).parent.parent / "eventsim.yaml"
