"""The `kdsharp` command line (sharpen, video, info, bench, install/uninstall gimp)."""
