"""kdsharp_cam: the virtual webcam host of kdsharp (console script ``kdsharp-cam``).

A thin host: frames from a camera, file or stream go through the core
(``kdsharp.Sharpener``) and out to a virtual camera via pyvirtualcam, in a
pipe of three threads (``pipeline.Pipe``). Modules: ``sources`` (reading),
``pipeline`` (threads, queues, outputs), ``pixel_formats`` (RGB to the
camera's layout), ``virtual_camera`` (opening the device), ``recording``
(``--record``), ``preview`` (Tk window), ``stats``, ``cli``.
"""
