"""pyqtgraph/Qt widgets shared by the live dashboard and the review window.

- :class:`~gui.widgets.time_plot.TimePlot` - fast time plot with thresholds, shaded
  episodes (one path item per side) and markers; :func:`~gui.widgets.time_plot.decimate_minmax`
- :class:`~gui.widgets.activity_band.ActivityBand` - activity colour band with legend
- :class:`~gui.widgets.readout.BigReadout`, :class:`~gui.widgets.readout.HipHikeIndicator`
- :mod:`gui.widgets.theme` - light and dark themes
"""
