"""The live sensor dashboard (``pelviscope live``).

- :mod:`gui.live.model` - :class:`LiveModel`: source, ring buffers, analysis, recording (no Qt)
- :mod:`analysis.pipeline.live` - :class:`LivePipeline`: incremental analysis wiring (no Qt)
- :mod:`gui.live.window` - :class:`LiveWindow`: the thin Qt view
- :mod:`gui.live.app` - start-up and the headless ``--duration`` / ``--screenshot`` options
"""
