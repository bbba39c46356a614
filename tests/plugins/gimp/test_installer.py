"""kdsharp_gimp.installer: where the plug-in goes and what it writes (no GIMP needed)."""

from __future__ import annotations

import json
import stat
import sys
from importlib import resources
from pathlib import Path

import pytest
from kdsharp_gimp import installer
from kdsharp_gimp.installer import InstallError, install, plugins_dir, uninstall


class TestPluginsDir:
    def test_gimp3_directory_wins(self, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
        monkeypatch.setenv("GIMP3_DIRECTORY", str(tmp_path / "profile"))
        assert plugins_dir() == tmp_path / "profile" / "plug-ins"

    def test_linux_uses_xdg_config_home(self, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
        monkeypatch.delenv("GIMP3_DIRECTORY", raising=False)
        monkeypatch.setattr(sys, "platform", "linux")
        monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
        assert plugins_dir() == tmp_path / "GIMP" / "3.0" / "plug-ins"

    def test_linux_default_is_dot_config(self, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
        monkeypatch.delenv("GIMP3_DIRECTORY", raising=False)
        monkeypatch.delenv("XDG_CONFIG_HOME", raising=False)
        monkeypatch.setattr(sys, "platform", "linux")
        monkeypatch.setenv("HOME", str(tmp_path))
        assert plugins_dir() == tmp_path / ".config" / "GIMP" / "3.0" / "plug-ins"

    def test_windows_uses_appdata(self, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
        monkeypatch.delenv("GIMP3_DIRECTORY", raising=False)
        monkeypatch.setattr(sys, "platform", "win32")
        monkeypatch.setenv("APPDATA", str(tmp_path / "Roaming"))
        assert plugins_dir() == tmp_path / "Roaming" / "GIMP" / "3.0" / "plug-ins"

    def test_macos_uses_application_support(self, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
        monkeypatch.delenv("GIMP3_DIRECTORY", raising=False)
        monkeypatch.setattr(sys, "platform", "darwin")
        monkeypatch.setenv("HOME", str(tmp_path))
        assert plugins_dir() == tmp_path / "Library" / "Application Support" / "GIMP" / "3.0" / "plug-ins"


class TestInstall:
    def test_writes_executable_plugin_and_settings(self, tmp_path: Path) -> None:
        script = install(tmp_path)
        assert script == tmp_path / "kdsharp" / "kdsharp.py"
        assert script.read_bytes() == resources.files("kdsharp_gimp").joinpath("plugin.py").read_bytes()
        assert script.stat().st_mode & stat.S_IXUSR and script.stat().st_mode & stat.S_IXOTH
        settings = json.loads((tmp_path / "kdsharp" / "kdsharp.json").read_text())
        assert settings["python"] == sys.executable

    def test_default_prefix_is_the_gimp_profile(self, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
        monkeypatch.setenv("GIMP3_DIRECTORY", str(tmp_path))
        assert install() == tmp_path / "plug-ins" / "kdsharp" / "kdsharp.py"

    def test_reinstall_replaces_and_leaves_no_temporary_files(self, tmp_path: Path) -> None:
        install(tmp_path)
        (tmp_path / "kdsharp" / "kdsharp.py").write_text("old")
        install(tmp_path)
        assert sorted(p.name for p in (tmp_path / "kdsharp").iterdir()) == ["kdsharp.json", "kdsharp.py"]
        assert (tmp_path / "kdsharp" / "kdsharp.py").read_text() != "old"

    def test_unwritable_prefix_is_an_install_error(self, tmp_path: Path) -> None:
        blocker = tmp_path / "a-file"
        blocker.write_text("")
        with pytest.raises(InstallError, match="cannot install the GIMP plug-in into .*a-file"):
            install(blocker)


class TestUninstall:
    def test_removes_what_install_wrote(self, tmp_path: Path) -> None:
        install(tmp_path)
        (tmp_path / "kdsharp" / "__pycache__").mkdir()
        (tmp_path / "kdsharp" / "__pycache__" / "kdsharp.cpython-313.pyc").write_bytes(b"")
        assert uninstall(tmp_path) is True
        assert not (tmp_path / "kdsharp").exists()

    def test_nothing_installed_returns_false(self, tmp_path: Path) -> None:
        assert uninstall(tmp_path) is False

    def test_keeps_files_it_did_not_write(self, tmp_path: Path) -> None:
        install(tmp_path)
        own = tmp_path / "kdsharp" / "notes.txt"
        own.write_text("mine")
        assert uninstall(tmp_path) is True
        assert own.read_text() == "mine"
        assert not (tmp_path / "kdsharp" / "kdsharp.py").exists()


def test_plugin_script_is_package_data_named_for_gimp() -> None:
    # GIMP 3 runs plug-ins/<name>/<name>.py: the installer's names must agree.
    assert installer.PLUGIN_NAME == "kdsharp" and installer.CONFIG_FILE == "kdsharp.json"
    text = resources.files("kdsharp_gimp").joinpath("plugin.py").read_text(encoding="utf-8")
    assert text.startswith("#!/usr/bin/env python3\n")
    assert f'CONFIG_FILE = "{installer.CONFIG_FILE}"' in text
