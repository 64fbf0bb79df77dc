"""Built-in plugins. Each registers through the ``bench`` entry-point group like any other.

A plugin module is specs plus thin adapters: it registers tasks, datasets, methods, metrics and
weights, and turns the harness's samples into a model's inputs. The models themselves, and their
training command lines, are in ``reference_models`` (which never imports ``bench``).
"""
