import eventsim


def test_public_names_are_exported_and_importable() -> None:
    assert sorted(eventsim.__all__) == eventsim.__all__
    for name in eventsim.__all__:
        assert getattr(eventsim, name) is not None, name
    assert set(eventsim.__all__) <= set(dir(eventsim))


def test_the_runtime_child_does_not_import_heavy_dependencies() -> None:
    import subprocess
    import sys

    code = (
        "import sys, eventsim.runtime.worker; print(sorted(m for m in sys.modules "
        "if m.split('.')[0] in ('pydantic', 'structlog', 'yaml', 'click')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
