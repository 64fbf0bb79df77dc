"""Reporting: from records to what people read. Leaderboard tables (``leaderboard``, rendered by
``reporters``), significance groups and paired tests (``significance``, ``compare``), figures
(``plots``, ``strips``, ``mouth_plot``), the committed baseline (``baseline``) and checks of
claimed and committed numbers (``verify``); ``pipeline`` runs them for ``bench leaderboard``."""
