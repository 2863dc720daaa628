"""Guided clinical tests and exercises on screen: a Qt-free model and its window."""
