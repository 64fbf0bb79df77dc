"""Tools for plugin authors: ``bench new-method`` (``scaffold`` and its ``templates``) and
``bench validate-plugin`` (``validate``, with each built-in task's contract checks)."""
