"""Checks run INSIDE real GIMP 3 (``gimp-console-3.0 ... --batch-interpreter=python-fu-eval``).

Not a test module: ``conftest.py`` runs it in the Debian 13 root with
``-b 'exec(open(...).read())'``. Each case loads a real photo, calls
``plug-in-kdsharp`` non-interactively the way any script would, and exports
the result (or dumps pixels read through GEGL) to ``$KDSHARP_TEST_DIR/out``;
``results.json`` records each call's PDB status and message. The host-side
tests compare all of it with the core's own output.
"""

import json
import os
import traceback

from gi.repository import Gegl, Gimp, Gio

BASE = os.environ["KDSHARP_TEST_DIR"]
IN = os.path.join(BASE, "in")
OUT = os.path.join(BASE, "out")
MODEL = os.path.join(IN, "tiny.onnx")
NONINTERACTIVE = Gimp.RunMode.NONINTERACTIVE
SETTINGS = os.path.expanduser("~/.config/GIMP/3.0/plug-ins/kdsharp/kdsharp.json")


def load(name):
    return Gimp.file_load(NONINTERACTIVE, Gio.File.new_for_path(os.path.join(IN, name)))


def export(image, name):
    Gimp.file_save(NONINTERACTIVE, image, Gio.File.new_for_path(os.path.join(OUT, name)), None)


def dump(drawable, fmt, name):
    """Write the drawable's pixels, read whole through GEGL in ``fmt``, to a raw file."""
    rect = Gegl.Rectangle.new(0, 0, drawable.get_width(), drawable.get_height())
    data = bytes(drawable.get_buffer().get(rect, 1.0, fmt, Gegl.AbyssPolicy.CLAMP))
    with open(os.path.join(OUT, name), "wb") as f:
        f.write(data)
    return data


def run_kdsharp(image, drawables, **arguments):
    """Call plug-in-kdsharp through the PDB; return its status nick and message."""
    procedure = Gimp.get_pdb().lookup_procedure("plug-in-kdsharp")
    config = procedure.create_config()
    config.set_property("image", image)
    config.set_core_object_array("drawables", drawables)
    for key, value in arguments.items():
        if key == "model_file":
            value = Gio.File.new_for_path(value)
        config.set_property(key.replace("_", "-"), value)
    result = procedure.run(config)
    status = result.index(0)
    message = result.index(1) if result.length() > 1 and status != Gimp.PDBStatusType.SUCCESS else ""
    return {"status": status.value_nick, "message": message}


def case_rgb8():
    image = load("photo.png")
    # Small tiles: many windows, each with the model's context around it.
    outcome = run_kdsharp(image, image.get_layers(), strength=1.0, model="file", model_file=MODEL, tile_size=64)
    export(image, "rgb8.png")
    return image, outcome


def case_rgba8():
    image = load("photo_rgba.png")
    outcome = run_kdsharp(image, image.get_layers(), strength=0.6, model="file", model_file=MODEL)
    export(image, "rgba8.png")
    return image, outcome


def case_gray8():
    image = load("photo_gray.png")
    outcome = run_kdsharp(image, image.get_layers(), strength=1.0, model="file", model_file=MODEL, tile_size=100)
    export(image, "gray8.png")
    return image, outcome


def case_rgb16():
    image = load("photo16.png")
    outcome = run_kdsharp(image, image.get_layers(), strength=1.3, model="file", model_file=MODEL, tile_size=128)
    outcome["precision"] = image.get_precision().value_nick
    export(image, "rgb16.png")
    return image, outcome


def case_float_linear():
    image = load("photo.png")
    image.convert_precision(Gimp.Precision.FLOAT_LINEAR)
    layer = image.get_layers()[0]
    dump(layer, "R'G'B' float", "float_linear_before.f32")
    outcome = run_kdsharp(image, [layer], strength=1.0, model="file", model_file=MODEL, tile_size=96)
    outcome["precision"] = image.get_precision().value_nick
    dump(layer, "R'G'B' float", "float_linear_after.f32")
    return image, outcome


def case_half_gray_alpha():
    image = load("photo_gray.png")
    image.convert_precision(Gimp.Precision.HALF_NON_LINEAR)
    layer = image.get_layers()[0]
    layer.add_alpha()
    dump(layer, "Y'A half", "half_gray_alpha_before.f16")
    outcome = run_kdsharp(image, [layer], strength=1.0, model="file", model_file=MODEL, tile_size=80)
    outcome["precision"] = image.get_precision().value_nick
    dump(layer, "Y'A half", "half_gray_alpha_after.f16")
    return image, outcome


def case_u32():
    image = load("photo.png")
    image.convert_precision(Gimp.Precision.U32_NON_LINEAR)
    layer = image.get_layers()[0]
    dump(layer, "R'G'B' float", "u32_before.f32")
    outcome = run_kdsharp(image, [layer], strength=1.0, model="file", model_file=MODEL)
    outcome["precision"] = image.get_precision().value_nick
    dump(layer, "R'G'B' float", "u32_after.f32")
    return image, outcome


def case_selection():
    image = load("photo.png")
    image.select_ellipse(Gimp.ChannelOps.REPLACE, 60, 40, 170, 120)
    Gimp.Selection.feather(image, 16.0)
    outcome = run_kdsharp(image, image.get_layers(), strength=1.5, model="file", model_file=MODEL, tile_size=64)
    dump(image.get_selection(), "Y float", "selection_mask.f32")
    export(image, "selection.png")
    return image, outcome


def case_strength0():
    image = load("photo.png")
    outcome = run_kdsharp(image, image.get_layers(), strength=0.0, model="file", model_file=MODEL)
    export(image, "strength0.png")
    return image, outcome


def case_default_model():
    image = load("photo.png")
    outcome = run_kdsharp(image, image.get_layers(), model="default")
    export(image, "default_model.png")
    return image, outcome


def case_corrupt_model():
    image = load("photo.png")
    outcome = run_kdsharp(image, image.get_layers(), model="file", model_file=os.path.join(IN, "photo.png"))
    export(image, "corrupt_model.png")
    return image, outcome


def case_missing_model():
    image = load("photo.png")
    outcome = run_kdsharp(image, image.get_layers(), model="file", model_file=os.path.join(IN, "no-such-model.onnx"))
    return image, outcome


def case_no_model_file():
    image = load("photo.png")
    outcome = run_kdsharp(image, image.get_layers(), model="file")
    return image, outcome


def with_settings(change, body):
    """Run ``body`` with the installed kdsharp.json changed by ``change``, then restore it."""
    with open(SETTINGS, encoding="utf-8") as f:
        original = f.read()
    try:
        settings = json.loads(original)
        change(settings)
        with open(SETTINGS, "w", encoding="utf-8") as f:
            json.dump(settings, f)
        return body()
    finally:
        with open(SETTINGS, "w", encoding="utf-8") as f:
            f.write(original)


def case_worker_dies():
    image = load("photo.png")

    def body():
        outcome = run_kdsharp(image, image.get_layers(), model="file", model_file=MODEL)
        export(image, "worker_dies.png")
        return outcome

    # The system Python has no kdsharp: the worker dies at once, saying why.
    return image, with_settings(lambda s: s.update(python="/usr/bin/python3"), body)


def case_worker_hangs():
    image = load("photo.png")

    def body():
        return run_kdsharp(image, image.get_layers(), model="file", model_file=MODEL)

    hang = os.path.join(IN, "hang.sh")
    return image, with_settings(lambda s: s.update(python=hang, open_timeout=2), body)


CASES = {
    name[len("case_") :]: function for name, function in sorted(globals().items()) if name.startswith("case_")
}


def main():
    os.makedirs(OUT, exist_ok=True)
    results = {}
    for name, function in CASES.items():
        try:
            image, outcome = function()
            image.delete()
            results[name] = outcome
        except Exception:  # noqa: BLE001 -- one crashing case must not hide the others
            results[name] = {"status": "crashed", "message": traceback.format_exc()}
    with open(os.path.join(OUT, "results.json"), "w", encoding="utf-8") as f:
        json.dump(results, f, indent=1)


main()
