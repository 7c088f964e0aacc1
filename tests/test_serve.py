"""`observatoire serve` puts the night's dashboards on 127.0.0.1 for those who prefer a URL."""

import signal
import socket
import subprocess
import sys
import time
import urllib.request

import pytest

from pipelines.settings import REPO_ROOT


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _ignore_sigterm() -> None:
    signal.signal(signal.SIGTERM, signal.SIG_IGN)


# "inherited as ignored": what a server started from a night launched with `nohup … &` gets
@pytest.mark.parametrize("sigterm", ["default", "inherited as ignored"])
def test_serves_the_published_dashboards_and_stops_on_sigterm(night, sigterm):
    home, _ = night
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "pipelines.cli", "serve", "--home", str(home), "--port", str(port)],
        cwd=REPO_ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        preexec_fn=_ignore_sigterm if sigterm != "default" else None)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/offre.html") as response:
                    page = response.read().decode("utf-8")
                break
            except OSError:
                assert server.poll() is None, server.stderr.read()
                assert time.monotonic() < deadline, "the server never answered"
                time.sleep(0.2)
        assert page == (home / "dashboards" / "offre.html").read_text(encoding="utf-8")
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/plotly.min.js") as response:
            assert response.status == 200
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            raise AssertionError("the server did not stop on SIGTERM") from None
    assert server.returncode == 0, server.stderr.read()
    assert f"http://127.0.0.1:{port}/" in server.stdout.read()


def test_says_in_french_when_there_is_nothing_to_serve(tmp_path):
    done = subprocess.run(
        [sys.executable, "-m", "pipelines.cli", "serve", "--home", str(tmp_path), "--port",
         str(_free_port())], cwd=REPO_ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 1
    assert "lancez d'abord « observatoire run »" in done.stderr
    assert str(tmp_path / "dashboards") in done.stderr
