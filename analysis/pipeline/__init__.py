"""The session pipeline: how the algorithms of ``analysis`` make one session's results.

- :mod:`~analysis.pipeline.params` - :class:`SessionParams`, every parameter in one object
- :mod:`~analysis.pipeline.stages` - the stages as functions of arrays
- :mod:`~analysis.pipeline.offline` - :func:`analyze`, :func:`analyze_recording`: a whole
  session, in this process or in parts on several (explicit rounds, no hand-off by files)
- :mod:`~analysis.pipeline.parts` - where to cut a long session and how to join its parts
- :mod:`~analysis.pipeline.tasks` - the work of one part in a worker process
- :mod:`~analysis.pipeline.workers` - process pool and shared arrays (knows no analysis)
- :mod:`~analysis.pipeline.result` - :class:`SessionResult`, :class:`TiltPreview`
- :mod:`~analysis.pipeline.serialize` - the ``analyze --json`` document (DESIGN section 4)
- :mod:`~analysis.pipeline.live` - :class:`LivePipeline`: the same algorithms, incrementally

``analysis.session`` re-exports the public names (DESIGN section 6).
"""
