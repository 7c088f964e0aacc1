"""`observatoire serve` puts the night's dashboards on 127.0.0.1 for those who prefer a URL."""

import socket
import subprocess
import sys
import time
import urllib.request

from pipelines.settings import REPO_ROOT


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_serves_the_published_dashboards(night):
    home, _ = night
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "pipelines.cli", "serve", "--home", str(home), "--port", str(port)],
        cwd=REPO_ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
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
        server.wait(timeout=10)
    assert f"http://127.0.0.1:{port}/" in server.stdout.read()


def test_says_in_french_when_there_is_nothing_to_serve(tmp_path):
    done = subprocess.run(
        [sys.executable, "-m", "pipelines.cli", "serve", "--home", str(tmp_path), "--port",
         str(_free_port())], cwd=REPO_ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 1
    assert "lancez d'abord « observatoire run »" in done.stderr
    assert str(tmp_path / "dashboards") in done.stderr
