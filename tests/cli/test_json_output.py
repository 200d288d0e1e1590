"""``--json`` commands write exactly one JSON document on stdout, whatever the code they run
prints along the way (Python prints, rich progress bars, C-level writes to fd 1)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

from click.testing import CliRunner

from paperwire.cli import main

REPO = Path(__file__).resolve().parents[2]

NOISY = textwrap.dedent("""
    import ctypes, os, sys
    import click
    from rich.console import Console
    from rich.progress import track
    from paperwire.cli.output import json_output

    @click.command()
    @click.option("--json", "as_json", is_flag=True)
    @json_output(indent=2)
    def noisy(as_json):
        print("print() to stdout")
        click.echo("click.echo to stdout")
        os.write(1, b"raw write to fd 1\\n")
        ctypes.CDLL(None).puts(b"C puts to stdout")
        for _ in track(range(3), description="a rich progress bar", console=Console()):
            pass
        if as_json:
            return {"answer": 42, "text": "ünïcode"}
        click.echo("the table")

    noisy()
""")


def _run(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(REPO / "src")}
    return subprocess.run(
        [sys.executable, "-c", NOISY, *args], env=env, capture_output=True, text=True, timeout=120
    )


def test_json_flag_keeps_every_kind_of_output_off_stdout():
    done = _run("--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {"answer": 42, "text": "ünïcode"}
    for noise in ("print() to stdout", "click.echo", "raw write to fd 1", "C puts"):
        assert noise in done.stderr


def test_without_json_the_command_prints_as_usual():
    done = _run()
    assert done.returncode == 0, done.stderr
    assert "print() to stdout" in done.stdout and "the table" in done.stdout


def test_config_json_under_the_click_runner_is_one_object(tmp_path):
    result = CliRunner().invoke(
        main, ["config", "--json"], env={"PAPERWIRE_DATA_DIR": str(tmp_path)}
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["PAPERWIRE_DATA_DIR"] == str(tmp_path)


def test_every_json_flag_goes_through_json_output():
    commands = [(name, cmd) for name, cmd in main.commands.items()]
    commands += [
        (f"{name} {sub}", c)
        for name, cmd in main.commands.items()
        for sub, c in getattr(cmd, "commands", {}).items()
    ]
    with_json = [
        (name, cmd) for name, cmd in commands if any(p.name == "as_json" for p in cmd.params)
    ]
    assert len(with_json) >= 5
    for name, cmd in with_json:
        assert getattr(cmd.callback, "pure_json", False), f"paperwire {name} --json"
