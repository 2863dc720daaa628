"""The printable HTML report (:func:`render_html`) and its SVG charts."""

from analysis.report.html import render_html

__all__ = ["render_html"]
