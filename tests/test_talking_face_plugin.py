"""The talking-face dataset plugin registers resolvable specs through the harness loader."""

from __future__ import annotations

from bench.lazy import resolve
from bench.discovery.loader import load_registries


def test_plugin_registers_the_four_datasets():
    import plugins.talking_face_data as plugin

    regs = load_registries(extra_plugins=[("talking_face_data", plugin)], entry_points=False)
    assert [p.status for p in regs.plugins] == ["ok"], [p.error for p in regs.plugins]
    names = set(regs.plugins[0].registered["datasets"])
    assert names == {"talking-faces-synthetic", "lrs2", "hdtf", "video-folder"}
    syn = regs.datasets.get("talking-faces-synthetic")
    assert syn.embedded and syn.task == "talking-face"
    assert syn.splits == ("train", "val", "test", "test-crossdub", "val-crossdub")
    assert syn.eval_splits == ("test", "test-crossdub")
    for name in names:
        spec = regs.datasets.get(name)
        assert callable(resolve(spec.loader))
        assert spec.embedded == (name == "talking-faces-synthetic")
