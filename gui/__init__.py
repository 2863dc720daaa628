"""pyqtgraph/Qt apps: the live dashboard (``gui.live``) and shared widgets (``gui.widgets``).

The recorded-session review window goes in ``gui.review``.
"""
