"""Undo/redo checks run INSIDE real GIMP 3 with its GUI (``gimp-3.0`` under Xvfb).

Not a test module: ``conftest.py`` runs it with ``-b 'exec(...)'``. GIMP has
no PDB call for "undo", so this presses the real keys (Ctrl+Z, Ctrl+Y) in the
image window with xdotool while GIMP's core keeps running, and watches the
pixels through GEGL. The image has two layers (the second offset against
the canvas), both selected, so "one undo step" means one Ctrl+Z restores both.
Last, the plug-in's dialog is opened interactively and cancelled with Escape.
Results go to ``$KDSHARP_TEST_DIR/out/gui.json``.
"""

import json
import os
import subprocess
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

        # The interactive dialog opens; Escape cancels and changes nothing.
        closer = subprocess.Popen(
            ["xdotool", "search", "--sync", "--name", "Sharpen", "windowfocus", "--sync", "key", "Escape"]
        )
        config.set_property("run-mode", Gimp.RunMode.INTERACTIVE)
        results["dialog_status"] = procedure.run(config).index(0).value_nick
        closer.wait(timeout=30)
        results["cancel_changes_nothing"] = [pixels(layer) for layer in layers] == sharpened
        display.delete()
    except Exception:  # noqa: BLE001 -- record any failure for the host-side tests
        results["error"] = traceback.format_exc()
    with open(os.path.join(OUT, "gui.json"), "w", encoding="utf-8") as f:
        json.dump(results, f, indent=1)


main()
