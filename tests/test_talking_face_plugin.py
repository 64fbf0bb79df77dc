"""The talking-face dataset plugin registers resolvable specs."""

from __future__ import annotations

import pluggy

from bench import hookspecs
from bench.lazy import resolve
from bench.specs import DatasetSpec


def test_plugin_registers_the_four_datasets():
    pm = pluggy.PluginManager(hookspecs.PROJECT)
    pm.add_hookspecs(hookspecs)
    import plugins.talking_face_data as plugin

    pm.register(plugin)
    specs: list[DatasetSpec] = []
    pm.hook.bench_register_datasets(register=specs.append)
    by_name = {s.name: s for s in specs}
    assert set(by_name) == {"talking-faces-synthetic", "lrs2", "hdtf", "video-folder"}
    syn = by_name["talking-faces-synthetic"]
    assert syn.embedded and syn.task == "talking-face"
    assert syn.splits == ("train", "val", "test", "test-crossdub")
    assert syn.eval_splits == ("test", "test-crossdub")
    for s in specs:
        assert callable(resolve(s.loader))
        assert s.embedded == (s.name == "talking-faces-synthetic")
