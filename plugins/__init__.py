"""Built-in plugins. Each registers through the ``bench`` entry-point group like any other."""
