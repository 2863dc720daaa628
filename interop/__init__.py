"""pelviscope in a lab's ecosystem: BIDS-motion datasets on disk, Lab Streaming Layer live.

- :mod:`interop.bids`: export recordings (with their analysed events) into a BIDS-motion
  dataset; :mod:`recordings.bids` reads them back (``recordings.load`` takes a
  ``*_motion.tsv``).
- :mod:`interop.lsl`: LSL outlets for the raw IMU samples, the derived posture values and
  the events of a live session (``pelviscope record --lsl``, ``pelviscope live --lsl``).

Layer: above the bridge, the analysis and the simulator (it uses them), below the GUI
(the live window feeds it).
"""
