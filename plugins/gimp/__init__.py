"""kdsharp for GIMP 3: the plug-in script, its worker process and its installer.

- ``plugin.py``: the GIMP 3 plug-in itself (package data, run by GIMP's own
  Python; it imports neither numpy nor the core).
- ``worker``: ``python -m kdsharp_gimp.worker``, the process the plug-in
  hands pixels to, running the core in the kdsharp environment.
- ``installer``: ``install``/``uninstall``, behind ``kdsharp install gimp``.
"""
