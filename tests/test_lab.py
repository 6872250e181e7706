"""``make lab``'s reader setup, without a browser (see test_browser.py for that)."""

import json
import socket
from pathlib import Path

from dlnotes_course.lab import (
    INSTRUCTOR_LAB_PLUGINS,
    INSTRUCTOR_SERVER_EXTENSIONS,
    configure_for_readers,
    free_port,
    install_lab_overrides,
    lab_command,
)


def test_reader_setup_switches_off_instructor_parts_only(tmp_path):
    etc = tmp_path / "etc" / "jupyter"
    (etc / "labconfig").mkdir(parents=True)
    (etc / "labconfig" / "page_config.json").write_text(json.dumps(
        {"disabledExtensions": {"@jupyter/nbgrader:validate-assignment": True,
                                "some-other:plugin": True}}))
    assert configure_for_readers(str(tmp_path)) is True
    assert configure_for_readers(str(tmp_path)) is False  # idempotent
    page = json.loads((etc / "labconfig" / "page_config.json").read_text())
    disabled = page["disabledExtensions"]
    assert all(disabled[p] for p in INSTRUCTOR_LAB_PLUGINS)
    assert "@jupyter/nbgrader:validate-assignment" not in disabled  # student part back on
    assert disabled["some-other:plugin"] is True  # others' settings kept
    server = json.loads((etc / "jupyter_server_config.json").read_text())
    exts = server["ServerApp"]["jpserver_extensions"]
    assert all(exts[e] is False for e in INSTRUCTOR_SERVER_EXTENSIONS)


def test_widget_comms_stay_on_the_main_shell(tmp_path):
    """The override names a real JupyterLab setting and a value its schema allows."""
    import sys

    path = install_lab_overrides(str(tmp_path))
    assert path == tmp_path / "share/jupyter/lab/settings/overrides.d/dlnotes.json"
    overrides = json.loads(path.read_text())
    schemas = Path(sys.prefix) / "share" / "jupyter" / "lab" / "schemas"
    for plugin, values in overrides.items():
        package, name = plugin.rsplit(":", 1)
        schema = json.loads((schemas / package / f"{name}.json").read_text())
        for key, value in values.items():
            allowed = [c["const"] for c in schema["properties"][key]["oneOf"]]
            assert value in allowed, (plugin, key, allowed)
    assert overrides["@jupyterlab/apputils-extension:kernels-settings"] == {
        "commsOverSubshells": "disabled"}
    # what make install wrote into this venv, which make lab and the browser tests use
    assert json.loads((Path(sys.prefix) / "share/jupyter/lab/settings/overrides.d/"
                       "dlnotes.json").read_text()) == overrides


def test_lab_listens_on_loopback_only_on_a_free_port(tmp_path):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        taken = busy.getsockname()[1]
        port = free_port(taken)
    assert port != taken
    cmd = lab_command(tmp_path, port, "t0ken")
    assert "--ip=127.0.0.1" in cmd and f"--port={port}" in cmd
    assert "--ServerApp.port_retries=0" in cmd
    assert f"--ServerApp.root_dir={tmp_path}" in cmd
