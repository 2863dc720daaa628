"""Recorded-session review window (``pelviscope review``).

- :mod:`gui.review.model` - Qt-free: :func:`~gui.review.model.open_session` (cached
  analysis), :class:`~gui.review.model.ReviewModel` (episodes, thresholds, markers, export),
  :func:`~gui.review.model.recalibrate`
- :mod:`gui.review.cache` - ``<file>.pscache`` next to the recording
- :mod:`gui.review.notes` - ``<file>.notes.json`` markers and notes
- :mod:`gui.review.decimate` - min/max pyramid for fast zoom and pan
- :mod:`gui.review.window`, :mod:`gui.review.plots`, :mod:`gui.review.panels` - thin views
- :mod:`gui.review.app` - start the window (also headless, for screenshots)
"""
