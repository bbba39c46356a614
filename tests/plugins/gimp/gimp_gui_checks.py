"""Undo/redo checks run INSIDE real GIMP 3 with its GUI (``gimp-3.0`` under Xvfb).

Not a test module: ``conftest.py`` runs it with ``-b 'exec(...)'``. GIMP has
no PDB call for "undo", so this presses the real keys (Ctrl+Z, Ctrl+Y) in the
image window with xdotool while GIMP's core keeps running, and watches the
pixels through GEGL. The image has two layers (the second offset against
the canvas), both selected, so "one undo step" means one Ctrl+Z restores both.
Last, the plug-in's dialog is opened interactively: its preview must draw, and
clicking the strength control (real pointer events) must change the pixels of
the preview area on the screen (grabbed with ``xwd``); then Escape cancels.
The plug-in notes each preview it draws, and where its widgets are, in
``$KDSHARP_PREVIEW_LOG``. Results go to ``$KDSHARP_TEST_DIR/out/gui.json``; the
dialog's picture to ``out/dialog.ppm``.
"""

import json
import os
import struct
import subprocess
import threading
import time
import traceback

from gi.repository import Gegl, Gimp, Gio

BASE = os.environ["KDSHARP_TEST_DIR"]
OUT = os.path.join(BASE, "out")
NONINTERACTIVE = Gimp.RunMode.NONINTERACTIVE


def pixels(layer):
    rect = Gegl.Rectangle.new(0, 0, layer.get_width(), layer.get_height())
    return bytes(layer.get_buffer().get(rect, 1.0, "R'G'B' u8", Gegl.AbyssPolicy.CLAMP))


def press(window_name, keys):
    """Focus the image window and press ``keys`` there (real X key events)."""
    subprocess.run(
        ["xdotool", "search", "--sync", "--name", window_name, "windowfocus", "--sync", "key", "--clearmodifiers", keys],
        check=True,
        timeout=30,
    )


def wait_for(layers, expected, seconds=20.0):
    """Poll until every layer's pixels equal ``expected``; return whether they did."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if [pixels(layer) for layer in layers] == expected:
            return True
        time.sleep(0.2)
    return False


def grab(box):
    """The screen's pixels in ``[x, y, width, height]`` (``xwd`` of the root window), their row length and pixel size."""
    x, y, w, h = box
    raw = subprocess.run(["xwd", "-root", "-silent"], capture_output=True, check=True, timeout=30).stdout
    header = struct.unpack(">25I", raw[:100])
    header_size, bits, line, colours = header[0], header[11], header[12], header[19]
    data = raw[header_size + 12 * colours :]
    size = bits // 8
    rows = [data[(y + r) * line + x * size : (y + r) * line + (x + w) * size] for r in range(h)]
    return b"".join(rows), w * size, size


def save_ppm(path, pixels, row, size, box):
    """Write grabbed BGR(X) pixels (``size`` bytes each) as a PPM picture."""
    w, h = box[2], box[3]
    rgb = bytearray()
    for r in range(h):
        line = pixels[r * row : (r + 1) * row]
        for c in range(min(w, len(line) // size)):
            b, g, red = line[size * c], line[size * c + 1], line[size * c + 2]
            rgb += bytes((red, g, b))
    with open(path, "wb") as f:
        f.write(b"P6 %d %d 255\n" % (w, h) + bytes(rgb))


def notes(log, count, seconds=90.0, where=lambda note: True):
    """Wait until the preview log holds ``count`` notes that satisfy ``where``; return them."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with open(log, encoding="utf-8") as f:
                found = [n for n in map(json.loads, f) if where(n)]
        except (OSError, ValueError):
            found = []
        if len(found) >= count:
            return found
        time.sleep(0.3)
    return []


def drive_dialog(results):
    """While the dialog runs: wait for its preview, click the strength control, check the preview redraws."""
    log = os.environ["KDSHARP_PREVIEW_LOG"]
    try:
        first = notes(log, 1)
        results["preview_drawn"] = bool(first)
        if first:
            note = first[-1]
            time.sleep(1.0)  # the widget paints after the buffer is handed over
            before, _, _ = grab(note["area"])
            time.sleep(1.0)
            x, y, w, h = notes(log, 1)[-1]["strength_widget"]  # where the strength field is now
            # Click into the strength field, replace its text with 1.9 and leave it: real key presses.
            # No window manager here: the dialog gets the keyboard focus explicitly.
            subprocess.run(["xdotool", "search", "--sync", "--name", "Sharpen", "windowfocus", "--sync"], check=True, timeout=30)
            subprocess.run(["xdotool", "mousemove", "--sync", str(x + w // 4), str(y + h // 2), "click", "1",
                            "key", "--clearmodifiers", "ctrl+a", "type", "1.9"], check=True, timeout=30)
            subprocess.run(["xdotool", "key", "--clearmodifiers", "Tab"], check=True, timeout=30)
            changed = notes(log, 1, where=lambda n: n["strength"] != note["strength"])
            if changed:
                later = changed[-1]
                time.sleep(1.0)
                after, _, _ = grab(later["area"])
                results["preview_strength"] = later["strength"]
                results["preview_label"] = later["label"]
                results["preview_area"] = later["area"]
                results["preview_pixels_changed"] = later["area"] == note["area"] and before != after
                top = later["dialog"]
                shot, shot_row, size = grab(top)
                save_ppm(os.path.join(OUT, "dialog.ppm"), shot, shot_row, size, top)
    except Exception:  # noqa: BLE001 -- recorded for the host-side tests
        results["preview_error"] = traceback.format_exc()
    finally:
        subprocess.run(["xdotool", "search", "--sync", "--name", "Sharpen", "windowfocus", "--sync", "key", "Escape"],
                       timeout=60, check=False)


def picture_default_dialog(results):
    """Wait for the default model's preview, keep a picture of the dialog, press Escape."""
    log = os.environ["KDSHARP_PREVIEW_LOG"]
    try:
        drawn = notes(log, 1, seconds=120, where=lambda n: n["model"].startswith("kdsharp-"))
        if drawn:
            time.sleep(3.0)  # every widget painted
            results["default_preview_model"] = drawn[-1]["model"]
            results["default_preview_label"] = drawn[-1]["label"]
            shot, row, size = grab(drawn[-1]["dialog"])
            save_ppm(os.path.join(OUT, "dialog-default.ppm"), shot, row, size, drawn[-1]["dialog"])
    except Exception:  # noqa: BLE001 -- recorded for the host-side tests
        results["default_preview_error"] = traceback.format_exc()
    finally:
        subprocess.run(["xdotool", "search", "--sync", "--name", "Sharpen", "windowfocus", "--sync", "key", "Escape"],
                       timeout=60, check=False)


def main():
    results = {}
    try:
        image = Gimp.file_load(NONINTERACTIVE, Gio.File.new_for_path(os.path.join(BASE, "in", "photo.png")))
        background = image.get_layers()[0]
        moved = background.copy()
        image.insert_layer(moved, None, 0)
        moved.set_offsets(37, 23)
        layers = [background, moved]
        image.set_selected_layers(layers)
        display = Gimp.Display.new(image)
        Gimp.displays_flush()
        window = f"{image.get_width()}x{image.get_height()}"
        original = [pixels(layer) for layer in layers]

        procedure = Gimp.get_pdb().lookup_procedure("plug-in-kdsharp")
        config = procedure.create_config()
        config.set_property("image", image)
        config.set_core_object_array("drawables", layers)
        config.set_property("model", "file")
        config.set_property("model-file", Gio.File.new_for_path(os.path.join(BASE, "in", "tiny.onnx")))
        config.set_property("tile-size", 128)
        status = procedure.run(config).index(0)
        results["status"] = status.value_nick
        Gimp.displays_flush()
        sharpened = [pixels(layer) for layer in layers]
        results["both_changed"] = all(a != b for a, b in zip(original, sharpened))
        with open(os.path.join(OUT, "gui_moved_layer.u8"), "wb") as f:
            f.write(sharpened[1])

        press(window, "ctrl+z")
        results["one_undo_restores_both"] = wait_for(layers, original)
        press(window, "ctrl+y")
        results["redo_sharpens_again"] = wait_for(layers, sharpened)

        # The interactive dialog opens with its preview; a click on strength redraws it; Escape cancels.
        driver = threading.Thread(target=drive_dialog, args=(results,), daemon=True)
        driver.start()
        config.set_property("run-mode", Gimp.RunMode.INTERACTIVE)
        results["dialog_status"] = procedure.run(config).index(0).value_nick
        driver.join(timeout=120)
        results["cancel_changes_nothing"] = [pixels(layer) for layer in layers] == sharpened

        # The dialog as a user first sees it: the default model (the stills rung) on the photo.
        image.set_selected_layers([background])
        config.set_core_object_array("drawables", [background])
        config.set_property("model", "default")
        config.set_property("model-file", None)
        config.set_property("strength", 1.0)
        driver = threading.Thread(target=picture_default_dialog, args=(results,), daemon=True)
        driver.start()
        results["default_dialog_status"] = procedure.run(config).index(0).value_nick
        driver.join(timeout=120)
        display.delete()
    except Exception:  # noqa: BLE001 -- record any failure for the host-side tests
        results["error"] = traceback.format_exc()
    with open(os.path.join(OUT, "gui.json"), "w", encoding="utf-8") as f:
        json.dump(results, f, indent=1)


main()
