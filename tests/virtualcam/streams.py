"""A real network stream for the tests: FFmpeg (from imageio-ffmpeg) serving a video over TCP."""

from __future__ import annotations

import socket
import subprocess
from pathlib import Path

import imageio_ffmpeg


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def stream_server(video: Path, port: int) -> subprocess.Popen:
    """Stream ``video`` in real time over TCP with FFmpeg; it serves one client, then exits."""
    command = [
        imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-loglevel", "quiet", "-re", "-readrate_initial_burst", "0.1",
        "-i", str(video), "-c", "copy", "-f", "matroska", f"tcp://127.0.0.1:{port}?listen=1",
    ]  # fmt: skip
    return subprocess.Popen(command)
