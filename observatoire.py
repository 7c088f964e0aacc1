#!/usr/bin/env python3
"""Bootstrap from a stock Python 3.11+: make .venv, install the locked dependencies, then run.

    python3 observatoire.py run          # the nightly job on the embedded demo data
    python3 observatoire.py test [ARGS]  # the test suite (pytest ARGS)
    python3 observatoire.py sql "…"      # any other `observatoire` command

Only the standard library is used here, so it works before anything is installed.
"""

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
STAMP = VENV / ".installed-lock"


# what the environment is installed with: a change re-installs it like a new lock does
INSTALL_OPTIONS = ["--compile-bytecode"]


def _lock_digest() -> str:
    digest = hashlib.sha256(" ".join(INSTALL_OPTIONS).encode())
    for name in ("requirements.lock", "pyproject.toml"):
        digest.update((ROOT / name).read_bytes())
    return digest.hexdigest()


def ensure_environment() -> None:
    # this file runs under whatever python3 the user has, before the project's own checks
    if sys.version_info < (3, 11):  # noqa: UP036
        sys.exit("observatoire demande Python 3.11 ou plus récent.")
    if STAMP.exists() and STAMP.read_text() == _lock_digest():
        return
    print("Installation de l'environnement (.venv) — une fois, environ 40 s…", flush=True)
    if not (BIN / "python").exists() and not (BIN / "python.exe").exists():
        venv.EnvBuilder(with_pip=True).create(VENV)
    python = str(BIN / "python")
    quiet = ["--quiet"]
    # uv installs the ~290 locked packages in seconds where pip takes over a minute.
    subprocess.run([python, "-m", "pip", "install", *quiet, "uv>=0.9,<1"], check=True)
    # Bytecode is compiled once here: where PYTHONDONTWRITEBYTECODE is set (as on the CI
    # machines), every night would otherwise compile Dagster and Great Expectations from source
    # again, 12 s for the Great Expectations import alone against 4 s from bytecode.
    subprocess.run(
        [python, "-m", "uv", "pip", "install", *quiet, *INSTALL_OPTIONS, "--python", python,
         "-r", str(ROOT / "requirements.lock"), "-e", str(ROOT)],
        check=True,
    )
    STAMP.write_text(_lock_digest())


def main(argv: list[str]) -> int:
    ensure_environment()
    if argv[:1] == ["test"]:
        command = [str(BIN / "python"), "-m", "pytest", *argv[1:]]
    else:
        command = [str(BIN / "observatoire"), *(argv or ["--help"])]
    return subprocess.call(command, cwd=ROOT)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
