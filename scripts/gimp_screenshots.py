"""Takes the README screenshots INSIDE real GIMP 3 (run by gimp_screenshots.sh under Xvfb).

1. Opens the photo, opens the plug-in's dialog interactively, waits for its preview, shoots it, cancels.
2. Selects the right half, runs the plug-in there non-interactively with the
   chosen model (so the shot shows before | after), shoots the window, and
   exports the result next to the shots.

Environment: KDSHARP_SHOTS (folder with photo.png, gets the PNG shots),
KDSHARP_SHOT_MODEL (a model path, or "" for the shipped default).
"""

import os
import subprocess
import time

from gi.repository import Gimp, Gio

SHOTS = os.environ["KDSHARP_SHOTS"]
MODEL = os.environ.get("KDSHARP_SHOT_MODEL", "")


def sh(command):
    subprocess.run(["sh", "-c", command], check=True, timeout=60)


def shoot(name, window=None):
    """Save a PNG of the whole screen, or of one window found by name."""
    target = f"-name '{window}'" if window else "-root"
    sh(f"xwd -silent {target} | xwdtopnm 2>/dev/null | pnmtopng > '{SHOTS}/{name}'")


def main():
    image = Gimp.file_load(Gimp.RunMode.NONINTERACTIVE, Gio.File.new_for_path(os.path.join(SHOTS, "photo.png")))
    display = Gimp.Display.new(image)
    Gimp.displays_flush()
    procedure = Gimp.get_pdb().lookup_procedure("plug-in-kdsharp")
    title = f"{image.get_width()}x{image.get_height()}"
    sh(f"xdotool search --sync --name '{title}' windowsize --sync 1240 860 windowmove 0 0")

    # The dialog: a helper waits for it, shoots it and presses Escape.
    helper = subprocess.Popen(
        ["sh", "-c", (
            "id=$(xdotool search --sync --onlyvisible --name 'Sharpen' | head -1); sleep 8; "
            f"xwd -silent -id $id | xwdtopnm 2>/dev/null | pnmtopng > '{SHOTS}/gimp-dialog.png'; "
            "xdotool windowfocus --sync $id key Escape"
        )]
    )
    config = procedure.create_config()
    config.set_property("run-mode", Gimp.RunMode.INTERACTIVE)
    config.set_property("image", image)
    config.set_core_object_array("drawables", image.get_layers())
    procedure.run(config)
    helper.wait(timeout=60)

    half = image.get_width() // 2
    image.select_rectangle(Gimp.ChannelOps.REPLACE, half, 0, image.get_width() - half, image.get_height())
    config = procedure.create_config()
    config.set_property("image", image)
    config.set_core_object_array("drawables", image.get_layers())
    config.set_property("strength", 1.0)
    if MODEL:
        config.set_property("model", "file")
        config.set_property("model-file", Gio.File.new_for_path(MODEL))
    result = procedure.run(config)
    if result.index(0) != Gimp.PDBStatusType.SUCCESS:
        raise RuntimeError(f"plug-in-kdsharp failed: {result.index(1)}")
    Gimp.Selection.none(image)
    Gimp.displays_flush()
    time.sleep(2)
    shoot("gimp-result.png")
    Gimp.file_save(Gimp.RunMode.NONINTERACTIVE, image, Gio.File.new_for_path(os.path.join(SHOTS, "result.png")), None)
    display.delete()


main()
