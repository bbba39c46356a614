#!/usr/bin/env python3
"""kdsharp for GIMP 3: Filters ▸ Enhance ▸ Sharpen (kdsharp).

``kdsharp install gimp`` copies this file to ``plug-ins/kdsharp/kdsharp.py``
in the user's GIMP 3 folder, with ``kdsharp.json`` beside it naming the
Python interpreter of the kdsharp environment.

GIMP runs this script with its own Python, which may lack numpy and
onnxruntime, so nothing here imports them or the core. Pixels travel as raw
bytes to a worker process, ``<kdsharp python> -m kdsharp_gimp.worker``
(protocol in ``kdsharp_gimp/worker.py``), and come back the same way.

Per selected drawable: the selection bounds are cut into tiles; each tile is
read with the model's context around it in a GEGL format matching the
drawable, sharpened by the worker, and written to the shadow buffer. Only
when every tile of every drawable is done does ``merge_shadow`` apply the
shadows through the selection mask (GIMP blends partially selected pixels,
in linear light as for its own filters), all inside one undo group: a
failure half-way leaves the image untouched.

Scripts call it non-interactively (GIMP 3 Python console or batch mode)::

    proc = Gimp.get_pdb().lookup_procedure("plug-in-kdsharp")
    config = proc.create_config()
    config.set_property("image", image)
    config.set_core_object_array("drawables", [layer])
    config.set_property("strength", 1.0)
    config.set_property("model", "file")      # default | fast | quality | max | nokd | file
    config.set_property("model-file", Gio.File.new_for_path("/path/model.onnx"))
    config.set_property("tile-size", 1024)
    result = proc.run(config)                  # result.index(0) is the status
"""

import json
import os
import subprocess
import sys
import threading
import time
from collections import deque

import gi

gi.require_version("Gimp", "3.0")
gi.require_version("Gegl", "0.4")
from gi.repository import Gegl, Gimp, GLib, GObject

PROC_NAME = "plug-in-kdsharp"
CONFIG_FILE = "kdsharp.json"
#: Model choice -> what the worker is asked to load (None: the shipped default).
MODELS = {"default": None, "fast": "fast", "quality": "quality", "max": "max", "nokd": "nokd", "file": None}
MODEL_LABELS = {
    "default": "Default (the stills rung: quality, else fast)",
    "fast": "fast (real time; the lightest)",
    "quality": "quality (stills)",
    "max": "max (the teacher; slowest, best)",
    "nokd": "nokd (shipped ablation)",
    "file": "Model file below",
}
#: A file the dialog's preview notes each picture it draws in (JSON lines), for tests.
PREVIEW_LOG = "KDSHARP_PREVIEW_LOG"
#: Seconds to start the worker and load the model, and to sharpen one tile.
OPEN_TIMEOUT = 120.0
TILE_TIMEOUT = 600.0
#: GIMP component type -> (babl type, worker dtype). 32-bit integer and
#: double drawables travel as float (the core has no such dtypes).
COMPONENTS = {
    "u8": ("u8", "uint8"),
    "u16": ("u16", "uint16"),
    "u32": ("float", "float32"),
    "half": ("half", "float16"),
    "float": ("float", "float32"),
    "double": ("float", "float32"),
}
BYTES_PER_COMPONENT = {"uint8": 1, "uint16": 2, "float16": 2, "float32": 4}


class PluginError(Exception):
    """A failure to show the user as one message (EXECUTION_ERROR)."""


# -- the worker ---------------------------------------------------------------


def read_settings():
    """Read ``kdsharp.json`` beside this file.

    Keys: ``python`` (the kdsharp interpreter, required), ``open_timeout``
    and ``tile_timeout`` (seconds, optional).
    """
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), CONFIG_FILE)
    try:
        with open(path, encoding="utf-8") as f:
            settings = json.load(f)
    except (OSError, ValueError) as exc:
        raise PluginError(f"cannot read {path} ({exc}); reinstall with: kdsharp install gimp") from None
    python = settings.get("python")
    if not isinstance(python, str) or not os.path.isfile(python):
        raise PluginError(
            f"the kdsharp Python {python!r} named in {path} does not exist; "
            "reinstall from your kdsharp environment with: kdsharp install gimp"
        )
    return settings


class Worker:
    """The ``kdsharp_gimp.worker`` process, one request at a time, each with a deadline.

    A watchdog kills the process when a request outlives its deadline, so a
    hung worker turns into an error instead of a hung GIMP; a dead worker is
    seen as the end of its output, and its last stderr lines explain why.
    """

    def __init__(self, python, tile_timeout=TILE_TIMEOUT):
        self.tile_timeout = tile_timeout
        env = dict(os.environ)
        # GIMP's own Python settings must not leak into the kdsharp environment.
        for key in ("PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP"):
            env.pop(key, None)
        try:
            self.process = subprocess.Popen(
                [python, "-m", "kdsharp_gimp.worker"],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                env=env,
                creationflags=getattr(subprocess, "CREATE_NO_WINDOW", 0),
            )
        except OSError as exc:
            raise PluginError(f"cannot start the kdsharp worker {python}: {exc}") from None
        self.stderr_tail = deque(maxlen=12)
        self.timed_out = False
        self._stderr_reader = threading.Thread(target=self._drain_stderr, daemon=True)
        self._stderr_reader.start()

    def _drain_stderr(self):
        for line in self.process.stderr:
            text = line.decode("utf-8", "replace").rstrip()
            if text:
                self.stderr_tail.append(text)

    def _kill(self):
        self.timed_out = True
        self.process.kill()

    def request(self, header, payload=b"", timeout=None):
        """Send one message and return ``(header, payload)`` of the answer.

        Raises:
            PluginError: the worker reported an error, died, or timed out.
        """
        timeout = self.tile_timeout if timeout is None else timeout
        watchdog = threading.Timer(timeout, self._kill)
        watchdog.start()
        try:
            try:
                message = json.dumps({**header, "bytes": len(payload)}).encode() + b"\n"
                self.process.stdin.write(message)
                self.process.stdin.write(payload)
                self.process.stdin.flush()
            except (BrokenPipeError, OSError):
                pass  # it died: the empty answer below says how
            line = self.process.stdout.readline()
            answer = json.loads(line) if line.endswith(b"\n") else None
            data = b""
            if answer is not None and answer.get("bytes"):
                data = self.process.stdout.read(answer["bytes"])
                if len(data) != answer["bytes"]:
                    answer = None
        except ValueError:
            answer = {"ok": False, "error": f"the kdsharp worker sent garbage: {line[:80]!r}"}
        finally:
            watchdog.cancel()
        if answer is None:
            raise PluginError(self._death_message(timeout))
        if not answer.get("ok"):
            raise PluginError(str(answer.get("error", "the kdsharp worker failed")))
        return answer, data

    def _death_message(self, timeout):
        try:
            status = self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            status = self.process.wait()
        if self.timed_out:
            return f"the kdsharp worker did not answer within {timeout:g} s and was stopped"
        self._stderr_reader.join(timeout=5)  # its last words, if any
        tail = "; ".join(list(self.stderr_tail)[-3:]) or "no message"
        return f"the kdsharp worker stopped unexpectedly (exit status {status}): {tail}"

    def close(self):
        """End the worker: close its input, wait briefly, kill if needed."""
        try:
            self.process.stdin.close()
        except OSError:
            pass
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


# -- pixels -------------------------------------------------------------------


def pixel_format(image, drawable):
    """Return ``(babl format name, worker dtype, channels)`` for a drawable.

    Pixels go to the model as sRGB-encoded values (R'G'B' / Y'), the space
    the model was trained in; GEGL converts from and to the drawable's own
    storage. Linear drawables and images with their own colour profile travel
    as float so those conversions lose nothing.
    """
    if drawable.is_indexed():
        raise PluginError("kdsharp needs an RGB or grayscale image; convert indexed images first (Image ▸ Mode)")
    nick = image.get_precision().value_nick  # e.g. "u8-non-linear", "float-linear"
    component, _, trc = nick.partition("-")
    babl_type, dtype = COMPONENTS[component]
    if trc == "linear" or image.get_color_profile() is not None:
        babl_type, dtype = "float", "float32"
    alpha = drawable.has_alpha()
    if drawable.is_rgb():
        model, channels = ("R'G'B'A", 4) if alpha else ("R'G'B'", 3)
    else:
        model, channels = ("Y'A", 2) if alpha else ("Y'", 1)
    return f"{model} {babl_type}", dtype, channels


def round_down(value, multiple):
    return value // multiple * multiple


def round_up(value, multiple):
    return -(-value // multiple) * multiple


def tiles(x, y, width, height, tile):
    """Cut the rectangle into tiles of at most ``tile``×``tile``, row by row."""
    for ty in range(y, y + height, tile):
        for tx in range(x, x + width, tile):
            yield tx, ty, min(tile, x + width - tx), min(tile, y + height - ty)


def window_span(start, size, limit, multiple, context):
    """The input span ``[lo, hi)`` needed for output ``[start, start+size)`` along one axis.

    ``lo`` is a multiple of the model's size multiple (the same strided phase
    as a whole-image pass) and both ends carry ``context`` pixels, clamped to
    the drawable ``[0, limit)``: the core then pads exactly as for the whole image.
    """
    lo = max(0, round_down(start, multiple) - context)
    hi = min(limit, round_up(start + size, multiple) + context)
    return lo, hi


def sharpen_region(worker, drawable, source, region, fmt, dtype, channels, geometry, strength=None):
    """Sharpen ``region`` ``(x, y, width, height)`` of ``drawable`` through the worker.

    The region is read from ``source`` (the drawable's buffer) with the model's context
    around it (``window_span``), in ``fmt``; ``strength``, when given, replaces the one
    the worker was opened with.

    Returns:
        The region's sharpened bytes, and how many pixels the worker ran (with the context).

    Raises:
        PluginError: the worker failed or sent a block of the wrong size.
    """
    x, y, w, h = region
    multiple, context = geometry
    x0, x1 = window_span(x, w, drawable.get_width(), multiple, context)
    y0, y1 = window_span(y, h, drawable.get_height(), multiple, context)
    data = bytes(source.get(Gegl.Rectangle.new(x0, y0, x1 - x0, y1 - y0), 1.0, fmt, Gegl.AbyssPolicy.CLAMP))
    header = {"op": "sharpen", "height": y1 - y0, "width": x1 - x0, "channels": channels, "dtype": dtype,
              "keep": [y - y0, x - x0, h, w]}
    if strength is not None:
        header["strength"] = strength
    _, result = worker.request(header, data)
    if len(result) != w * h * channels * BYTES_PER_COMPONENT[dtype]:
        raise PluginError(f"the kdsharp worker returned {len(result)} bytes for a {w}×{h} region")
    return result, (x1 - x0) * (y1 - y0)


def fill_shadow(worker, image, drawable, tile_size, geometry, progress):
    """Sharpen the selected part of one drawable into its shadow buffer.

    Args:
        worker: an opened ``Worker``.
        geometry: ``(multiple, context)`` from the worker's ``open`` answer.
        progress: ``[done, total]`` pixel counters, updated as tiles finish.

    Returns:
        The drawable's selection bounds ``(x, y, width, height)``, or None
        when none of it is selected.
    """
    non_empty, x, y, width, height = drawable.mask_intersect()
    if not non_empty:
        return None
    fmt, dtype, channels = pixel_format(image, drawable)
    source = drawable.get_buffer()
    shadow = drawable.get_shadow_buffer()
    for tx, ty, tw, th in tiles(x, y, width, height, tile_size):
        result, _ = sharpen_region(worker, drawable, source, (tx, ty, tw, th), fmt, dtype, channels, geometry)
        shadow.set(Gegl.Rectangle.new(tx, ty, tw, th), fmt, result)
        progress[0] += tw * th
        Gimp.progress_update(min(1.0, progress[0] / max(1, progress[1])))
    shadow.flush()
    return x, y, width, height


def model_argument(config):
    """The worker's ``model`` value from the procedure config."""
    choice = config.get_property("model")
    if choice != "file":
        return MODELS.get(choice)
    model_file = config.get_property("model-file")
    path = model_file.get_path() if model_file is not None else None
    if not path:
        raise PluginError("model is set to 'file' but no model file was chosen")
    return path


def sharpen(image, drawables, config):
    """Run the whole operation; raises ``PluginError`` with the message for the user."""
    targets = [d for d in drawables if not d.is_group()]
    if not targets:
        raise PluginError("select a layer or channel to sharpen (layer groups cannot be sharpened)")
    for drawable in targets:
        pixel_format(image, drawable)  # refuse before any work
    model = model_argument(config)
    strength = config.get_property("strength")
    tile_size = config.get_property("tile-size")
    settings = read_settings()
    total = 0
    for drawable in targets:
        non_empty, _, _, w, h = drawable.mask_intersect()
        total += w * h if non_empty else 0
    if total == 0:
        return  # nothing selected on these drawables: nothing to change
    Gimp.progress_init("Sharpening (kdsharp)")
    worker = Worker(settings["python"], float(settings.get("tile_timeout", TILE_TIMEOUT)))
    try:
        answer, _ = worker.request(
            {"op": "open", "model": model, "strength": strength},
            timeout=float(settings.get("open_timeout", OPEN_TIMEOUT)),
        )
        geometry = (int(answer["multiple"]), int(answer["context"]))
        progress = [0, total]
        # Every drawable's shadow is filled before any is merged: a failure
        # half-way leaves the image untouched.
        done = [(d, fill_shadow(worker, image, d, tile_size, geometry, progress)) for d in targets]
    finally:
        worker.close()
        Gimp.progress_end()
    image.undo_group_start()
    try:
        for drawable, bounds in done:
            if bounds is not None:
                drawable.merge_shadow(True)
                drawable.update(*bounds)
    finally:
        image.undo_group_end()


# -- the dialog's preview -----------------------------------------------------


def preview_format(drawable):
    """``(babl format, channels)`` of the 8-bit picture a preview widget draws for ``drawable``."""
    alpha = drawable.has_alpha()
    if drawable.is_rgb():
        return ("R'G'B'A u8", 4) if alpha else ("R'G'B' u8", 3)
    return ("Y'A u8", 2) if alpha else ("Y' u8", 1)


def selected_pixels(drawables):
    """How many pixels the operation would sharpen (the selection within each drawable)."""
    total = 0
    for drawable in drawables:
        non_empty, _, _, w, h = drawable.mask_intersect()
        total += w * h if non_empty else 0
    return total


def _seconds(value):
    if value < 1.0:
        return f"{value:.2f} s"
    return f"{value:.1f} s" if value < 60.0 else f"{value / 60.0:.1f} min"


def expected_times(speeds, current, pixels):
    """One line: the expected time of each model measured so far for ``pixels`` pixels, the current first."""
    names = [current] + [n for n in speeds if n != current]
    parts = [f"{n} ≈ {_seconds(speeds[n] * pixels)}" for n in names if n in speeds]
    return f"{', '.join(parts)} for these {pixels / 1e6:.2f} MP (measured on the preview)"


class Preview:
    """The dialog's live preview, as GIMP's own filters have: the first drawable's visible
    region, sharpened by a worker of its own with the dialog's strength and model. It is
    redrawn when the region moves or a setting changes, and follows the "Preview" toggle
    of the widget. A label gives each model's expected time for the whole operation, from
    the measured speed of its preview.
    """

    def __init__(self, GimpUi, Gtk, image, drawables, config, settings):
        self.drawables = [d for d in drawables if not d.is_group()]
        self.drawable = self.drawables[0]
        self.config = config
        self.settings = settings
        self.worker = None
        self.opened = ()
        self.speeds = {}
        self.strength_widget = None
        self.widget = GimpUi.DrawablePreview.new_from_drawable(self.drawable)
        self.label = Gtk.Label(label="")
        self.label.set_xalign(0.0)
        self.label.set_line_wrap(True)
        self.widget.connect("invalidated", self.update)
        for name in ("strength", "model", "model-file"):
            config.connect(f"notify::{name}", lambda *args: self.widget.invalidate())

    def update(self, *args):
        try:
            self._update()
        except PluginError as exc:
            self.label.set_text(f"Preview: {exc}")
            if self.worker is not None:
                self.worker.close()
                self.worker, self.opened = None, ()
        return False

    def _update(self):
        if not self.widget.get_update():
            return
        model = model_argument(self.config)
        strength = self.config.get_property("strength")
        if self.worker is None:
            self.worker = Worker(self.settings["python"], float(self.settings.get("tile_timeout", TILE_TIMEOUT)))
        if self.opened[:1] != (model,):
            answer, _ = self.worker.request(
                {"op": "open", "model": model, "strength": strength},
                timeout=float(self.settings.get("open_timeout", OPEN_TIMEOUT)),
            )
            self.opened = (model, int(answer["multiple"]), int(answer["context"]), os.path.basename(answer["model"]))
        _, multiple, context, name = self.opened
        x, y = self.widget.get_position()
        w, h = self.widget.get_size()
        fmt, channels = preview_format(self.drawable)
        started = time.monotonic()
        result, ran = sharpen_region(self.worker, self.drawable, self.drawable.get_buffer(), (x, y, w, h), fmt,
                                     "uint8", channels, (multiple, context), strength)
        seconds = time.monotonic() - started
        self.widget.draw_buffer(result, w * channels)
        self.speeds[name] = seconds / max(1, ran)
        self.label.set_text(expected_times(self.speeds, name, selected_pixels(self.drawables)))
        self._note(name, strength, x, y, w, h)

    def _note(self, name, strength, x, y, w, h):
        """With ``KDSHARP_PREVIEW_LOG`` set, note what was drawn and where the widgets are on the screen.

        Written a moment later, once GTK has laid the dialog out again around the new label.
        """
        if os.environ.get(PREVIEW_LOG):
            GLib.timeout_add(300, self._write_note, name, strength, x, y, w, h)

    def _write_note(self, name, strength, x, y, w, h):
        path = os.environ[PREVIEW_LOG]
        line = {"model": name, "strength": strength, "region": [x, y, w, h], "label": self.label.get_text(),
                "area": screen_box(self.widget.get_area())}
        if self.strength_widget is not None:
            line["strength_widget"] = screen_box(self.strength_widget)
            line["dialog"] = screen_box(self.strength_widget.get_toplevel())
        with open(path, "a", encoding="utf-8") as f:
            f.write(json.dumps(line) + "\n")
        return False

    def close(self):
        if self.worker is not None:
            self.worker.close()
            self.worker = None


def screen_box(widget):
    """``[x, y, width, height]`` of ``widget`` on the screen (root window coordinates)."""
    top = widget.get_toplevel()
    tx, ty = widget.translate_coordinates(top, 0, 0)
    _, ox, oy = top.get_window().get_origin()
    alloc = widget.get_allocation()
    return [ox + tx, oy + ty, alloc.width, alloc.height]


# -- the procedure ------------------------------------------------------------


def run(procedure, run_mode, image, drawables, config, data):
    if run_mode == Gimp.RunMode.INTERACTIVE:
        gi.require_version("GimpUi", "3.0")
        gi.require_version("Gtk", "3.0")
        from gi.repository import GimpUi, Gtk

        GimpUi.init(PROC_NAME)
        dialog = GimpUi.ProcedureDialog(procedure=procedure, config=config, title="Sharpen (kdsharp)")
        preview = None
        if any(not d.is_group() for d in drawables):
            try:
                preview = Preview(GimpUi, Gtk, image, drawables, config, read_settings())
            except PluginError as exc:
                return procedure.new_return_values(Gimp.PDBStatusType.EXECUTION_ERROR, GLib.Error(f"kdsharp: {exc}"))
            box = dialog.get_content_area()
            box.pack_start(preview.widget, True, True, 0)
            box.pack_start(preview.label, False, False, 0)
            preview.widget.show()
            preview.label.show()
        dialog.fill(["strength", "model", "model-file", "tile-size"])
        if preview is not None:
            strength = dialog.get_widget("strength", GObject.TYPE_NONE)
            preview.strength_widget = strength.get_spin_button() if hasattr(strength, "get_spin_button") else strength
        try:
            ok = dialog.run()
        finally:
            if preview is not None:
                preview.close()
        dialog.destroy()
        if not ok:
            return procedure.new_return_values(Gimp.PDBStatusType.CANCEL, GLib.Error())
    Gimp.context_push()
    try:
        sharpen(image, drawables, config)
    except PluginError as exc:
        return procedure.new_return_values(Gimp.PDBStatusType.EXECUTION_ERROR, GLib.Error(f"kdsharp: {exc}"))
    finally:
        Gimp.context_pop()
    Gimp.displays_flush()
    return procedure.new_return_values(Gimp.PDBStatusType.SUCCESS, GLib.Error())


class KdsharpPlugIn(Gimp.PlugIn):
    """Declares ``plug-in-kdsharp``; ``run`` does the work."""

    def do_set_i18n(self, name):
        return False

    def do_query_procedures(self):
        return [PROC_NAME]

    def do_create_procedure(self, name):
        procedure = Gimp.ImageProcedure.new(self, name, Gimp.PDBProcType.PLUGIN, run, None)
        procedure.set_image_types("RGB*, GRAY*")
        procedure.set_sensitivity_mask(
            Gimp.ProcedureSensitivityMask.DRAWABLE | Gimp.ProcedureSensitivityMask.DRAWABLES
        )
        procedure.set_menu_label("_Sharpen (kdsharp)...")
        procedure.add_menu_path("<Image>/Filters/Enhance")
        procedure.set_documentation(
            "Sharpen with a distilled neural network (kdsharp)",
            "Sharpens the selected layers or channels with a kdsharp ONNX model. "
            "Strength 0 leaves the image as it is, 1 applies the model, up to 2 "
            "exaggerates it. Only selected pixels change; alpha is kept.",
            name,
        )
        procedure.set_attribution("kdsharp", "kdsharp", "2026")
        procedure.add_double_argument(
            "strength", "Stren_gth", "0 = unchanged, 1 = the model, 2 = twice its effect",
            0.0, 2.0, 1.0, GObject.ParamFlags.READWRITE,
        )
        choice = Gimp.Choice.new()
        for index, (nick, label) in enumerate(MODEL_LABELS.items()):
            choice.add(nick, index, label, "")
        procedure.add_choice_argument(
            "model", "_Model", "Which model: the default, a shipped one by name, or the file below",
            choice, "default", GObject.ParamFlags.READWRITE,
        )
        procedure.add_file_argument(
            "model-file", "Model _file", "A kdsharp .onnx model (used when Model is 'file')",
            Gimp.FileChooserAction.OPEN, True, None, GObject.ParamFlags.READWRITE,
        )
        procedure.add_int_argument(
            "tile-size", "_Tile size", "Pixels per side processed at once (plus the model's context)",
            64, 8192, 1024, GObject.ParamFlags.READWRITE,
        )
        return procedure


Gimp.main(KdsharpPlugIn.__gtype__, sys.argv)
