"""pyqtgraph/Qt apps: the live sensor dashboard and the recorded-session review window."""
