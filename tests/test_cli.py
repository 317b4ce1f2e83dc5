"""The command line: exit statuses, summary, ``python -m kbsite``, parallel = serial."""

from __future__ import annotations

import filecmp
import os
import shutil
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

from kbsite import __version__
from kbsite.cli import main

from .conftest import CONTENT

CYCLE = Path(__file__).parent / "sites" / "cycle"


def test_version_and_help() -> None:
    runner = CliRunner()
    assert runner.invoke(main, ["--version"]).output == f"kbsite, version {__version__}\n"
    result = runner.invoke(main, ["build", "--help"])
    assert result.exit_code == 0
    assert "--jobs" in result.output and "--strict" in result.output


def test_bad_usage_exits_2() -> None:
    result = CliRunner().invoke(main, ["build", "--jobs", "0"])
    assert result.exit_code == 2
    assert CliRunner().invoke(main, ["no-such-command"]).exit_code == 2


def test_build_prints_a_summary(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["build", str(CYCLE), "-o", str(tmp_path / "out"), "-q"])
    assert result.exit_code == 0, result.output
    assert "Wrote 3 articles" in result.output
    assert "1 unresolved references (1 mentions)" in result.output
    assert (tmp_path / "out" / "kb" / "Q300001.html").is_file()


def test_strict_fails_on_warnings(tmp_path: Path) -> None:
    source = tmp_path / "src"
    shutil.copytree(CYCLE, source)
    broken = source / "Q300002.TXT"
    broken.write_bytes(broken.read_bytes().replace(b"02-MAR-2001", b"31-FEB-2001"))
    out = str(tmp_path / "out")
    assert CliRunner().invoke(main, ["build", str(source), "-o", out, "-q"]).exit_code == 0
    result = CliRunner().invoke(main, ["build", str(source), "-o", out, "-q", "--strict"])
    assert result.exit_code == 1
    assert f"{broken}:1: warning: unreadable date '31-FEB-2001'" in result.output


def test_unusable_output_is_one_error_line(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("mine")
    result = CliRunner().invoke(main, ["build", str(CYCLE), "-o", str(tmp_path), "-q"])
    assert result.exit_code == 1
    assert result.output.startswith(f"ERROR {tmp_path}: output folder exists and was not written")
    assert "Traceback" not in result.output


def test_missing_source_is_one_error_line(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["build", str(tmp_path / "nope"), "-o", str(tmp_path / "o")])
    assert result.exit_code == 1
    assert result.output == f"ERROR {tmp_path / 'nope'}: no such file or folder\n"


def test_python_dash_m(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "kbsite", "--version"], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == f"kbsite, version {__version__}"


def test_parallel_build_is_identical_to_serial(tmp_path: Path) -> None:
    """(Each site in a folder of its own, with one name: its marker names its own index.)"""
    for jobs in ("1", "2"):
        output = tmp_path / jobs / "site"
        result = CliRunner().invoke(
            main, ["build", str(CONTENT), "-o", str(output), "-q", "--jobs", jobs]
        )
        assert result.exit_code == 0, result.output
    comparison = filecmp.dircmp(tmp_path / "1" / "site", tmp_path / "2" / "site")
    assert _differences(comparison) == []


def _differences(comparison: filecmp.dircmp[str]) -> list[str]:
    found = (
        comparison.left_only
        + comparison.right_only
        + comparison.diff_files
        + comparison.funny_files
    )
    for sub in comparison.subdirs.values():
        found += _differences(sub)
    return found


def test_empty_source_warns(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    result = CliRunner().invoke(
        main, ["build", str(tmp_path / "empty"), "-o", str(tmp_path / "out"), "-q", "--strict"]
    )
    assert result.exit_code == 1
    assert f"warning: no *.txt files in {tmp_path / 'empty'}" in result.output
    assert "Wrote 0 articles" in result.output


def test_builds_are_reproducible_across_processes(tmp_path: Path) -> None:
    """Two builds under different string hash seeds write byte-identical sites."""
    for seed in ("1", "2"):
        output = tmp_path / seed / "site"
        command = ["build", str(CONTENT), "-o", str(output), "-q", "--jobs", "2"]
        subprocess.run(
            [sys.executable, "-m", "kbsite", *command],
            check=True,
            capture_output=True,
            env={**os.environ, "PYTHONHASHSEED": seed},
        )
    comparison = filecmp.dircmp(tmp_path / "1" / "site", tmp_path / "2" / "site")
    assert _differences(comparison) == []


def test_each_command_loads_only_its_own_stages(tmp_path: Path) -> None:
    """A command's body is imported when it runs: ``kbsite search`` never loads the site
    builder, its templates or its parser."""
    script = (
        "import sys\n"
        "from kbsite.cli import main\n"
        "try:\n"
        f"    main(['search', 'anything', '--index', {str(tmp_path)!r}])\n"
        "except SystemExit:\n"
        "    pass\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('kbsite', 'jinja2')))\n"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    ).stdout
    assert "'kbsite.commands.search'" in loaded
    for heavy in ("kbsite.build", "kbsite.read.parse", "kbsite.render.renderer", "jinja2"):
        assert f"'{heavy}'" not in loaded


def test_export_names_its_default_files() -> None:
    result = CliRunner().invoke(main, ["export", "--help"])
    assert "[default: kbsite.zim, kbsite.jsonl, kbsite-markdown]" in " ".join(result.output.split())
