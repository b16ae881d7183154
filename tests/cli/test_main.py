"""CLI conventions: help everywhere, --version, one-line errors, exit codes."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from review import __version__
from review.cli import app

runner = CliRunner()


def all_command_paths() -> list[list[str]]:
    """Every command and subcommand of the CLI, as argument lists."""
    root = typer.main.get_command(app)
    paths: list[list[str]] = []

    def walk(command: object, prefix: list[str]) -> None:
        subcommands = getattr(command, "commands", {})
        for name, sub in subcommands.items():
            paths.append([*prefix, name])
            walk(sub, [*prefix, name])

    walk(root, [])
    return paths


def test_the_cli_has_the_foundation_commands() -> None:
    paths = {" ".join(p) for p in all_command_paths()}
    assert {"init", "protocol", "protocol check", "protocol history"} <= paths


@pytest.mark.parametrize("path", all_command_paths(), ids=" ".join)
def test_every_command_has_help(path: list[str]) -> None:
    result = runner.invoke(app, [*path, "--help"])
    assert result.exit_code == 0, result.output
    assert "Usage: casepool " + " ".join(path) in result.output
    lines = [line for line in result.output.splitlines()[1:] if line.strip()]
    assert lines and not lines[0].strip().startswith("Options"), "help text is missing"
    assert runner.invoke(app, [*path, "-h"]).output == result.output


@pytest.mark.parametrize(
    "path", [[], ["pool"], ["sensitivity"], ["protocol", "check"], ["db", "copy"]], ids=" ".join
)
def test_dash_h_is_help_for_every_command(path: list[str]) -> None:
    short = runner.invoke(app, [*path, "-h"])
    assert short.exit_code == 0, short.output
    assert short.output == runner.invoke(app, [*path, "--help"]).output
    assert "-h, --help" in short.output


def test_root_help_and_version() -> None:
    assert runner.invoke(app, ["--help"]).exit_code == 0
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0
    assert result.output == f"casepool {__version__}\n"


def test_init_and_check_from_the_command_line(tmp_path: Path, bundled_protocol: Path) -> None:
    result = runner.invoke(app, ["init", str(tmp_path / "rv"), "--protocol", str(bundled_protocol)])
    assert result.exit_code == 0
    assert result.output.startswith(f"Created review {tmp_path / 'rv'} (protocol ")
    result = runner.invoke(app, ["protocol", "check", str(bundled_protocol), "--json"])
    assert result.exit_code == 0
    assert '"outcomes": [\n    "clinical_response"' in result.output
    result = runner.invoke(app, ["protocol", "history", "--review", str(tmp_path / "rv"), "--json"])
    assert result.exit_code == 0 and '"kind": "original"' in result.output


def test_init_reports_json_for_scripts(tmp_path: Path, bundled_protocol: Path) -> None:
    import json

    args = ["init", str(tmp_path / "rv"), "--protocol", str(bundled_protocol), "--json"]
    first = json.loads(runner.invoke(app, args).stdout)
    assert first["created"] is True and first["kind"] == "original"
    assert first["protocol_version"] == 1 and len(first["sha256"]) == 64
    second = json.loads(runner.invoke(app, args).stdout)
    assert second["created"] is False and second["amended"] is False


def test_a_missing_file_is_one_line_on_stderr_with_exit_1(tmp_path: Path) -> None:
    result = runner.invoke(app, ["protocol", "check", str(tmp_path / "nope.toml")])
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr == f"Error: {tmp_path / 'nope.toml'}: no such protocol file\n"


def test_a_malformed_protocol_lists_its_problems_without_traceback(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("[review]\ntitle = 'x'\n")
    result = runner.invoke(app, ["protocol", "check", str(bad)])
    assert result.exit_code == 1
    assert result.stderr.startswith(f"Error: {bad}: 7 problems:\n")
    assert f"{bad}, line 1: review.question: required key is missing" in result.stderr
    assert "Traceback" not in result.stderr


def test_an_unknown_review_folder_is_an_error(tmp_path: Path) -> None:
    result = runner.invoke(app, ["protocol", "history", "--review", str(tmp_path / "nowhere")])
    assert result.exit_code == 1
    assert result.stderr.startswith(f"Error: {tmp_path / 'nowhere'} (given with --review): ")


def test_usage_errors_exit_2() -> None:
    assert runner.invoke(app, ["protocol", "check"]).exit_code == 2
    assert runner.invoke(app, ["no-such-command"]).exit_code == 2
    assert runner.invoke(app, ["protocol", "history", "--bogus"]).exit_code == 2


def _readme_reference() -> dict[str, set[str]]:
    """The README command reference: command path -> the options its row names."""
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Command reference", 1)[1].split("\n## ", 1)[0]
    rows: dict[str, set[str]] = {}
    for line in section.splitlines():
        cell = re.match(r"^\| `casepool ([^`]*)` \|", line)
        if cell:
            words = re.match(r"[a-z ]+", cell[1])
            path = words[0].strip() if words else ""
            path = " ".join(w for w in path.split() if w.islower())
            rows.setdefault(path, set()).update(re.findall(r"--[a-z][a-z-]*", cell[1]))
    return rows


def _options(path: str) -> set[str]:
    command = typer.main.get_command(app)
    for name in path.split():
        command = command.commands[name]  # type: ignore[attr-defined]
    return {o for p in command.params for o in p.opts if o.startswith("--")}


def test_readme_command_reference_matches_the_options_of_each_command() -> None:
    """Every option in --help is in the README row (bar the shared --review, --json, --help)."""
    reference = _readme_reference()
    assert {"init", "pool", "sensitivity", "protocol check"} <= set(reference)
    shared = {"--review", "--db", "--json", "--help"}
    for path, documented in reference.items():
        actual = _options(path)
        assert documented <= actual, f"README names options {path!r} does not have"
        assert actual - shared <= documented, f"README misses options of {path!r}"


def test_an_edited_protocol_is_announced_when_it_is_recorded(
    tmp_path: Path, bundled_protocol: Path
) -> None:
    directory = tmp_path / "rv"
    runner.invoke(app, ["init", str(directory), "--protocol", str(bundled_protocol)])
    path = directory / "protocol.toml"
    path.write_text(path.read_text(encoding="utf-8").replace("blind = true", "blind = false"))
    result = runner.invoke(app, ["protocol", "history", "--review", str(directory)])
    assert result.exit_code == 0
    assert result.stderr.startswith(f"Note: {path} changed; recorded as protocol amendment 2 (")
    assert result.stderr.rstrip().endswith("(casepool protocol history)")
    again = runner.invoke(app, ["protocol", "history", "--review", str(directory)])
    assert again.stderr == ""


def _readme_python_blocks() -> list[str]:
    """The indented Python examples of the README's "From Python" section."""
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    section = readme.split("## From Python", 1)[1].split("\n## ", 1)[0]
    blocks, current = [], []
    for line in section.splitlines():
        if line.startswith("    "):
            current.append(line[4:])
        elif current and line.strip():
            blocks.append("\n".join(current))
            current = []
    if current:
        blocks.append("\n".join(current))
    return [b for b in blocks if "import" in b]


def test_the_readme_python_examples_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, bundled_protocol: Path
) -> None:
    """The statistician's example runs as written; the review author's, on two small files."""
    import shutil

    data = Path(__file__).resolve().parents[1] / "data"
    monkeypatch.chdir(tmp_path)
    (tmp_path / "protocols").mkdir()
    shutil.copyfile(bundled_protocol, tmp_path / "protocols" / "rtx-ssc-calcinosis.toml")
    shutil.copyfile(data / "pubmed" / "pubmed1.xml", tmp_path / "pubmed-result.xml")
    shutil.copyfile(data / "import" / "embase.ris", tmp_path / "embase.ris")
    author, statistician = _readme_python_blocks()
    notebook: dict[str, object] = {}  # one namespace, as in a notebook
    exec(compile(author, "README (review author)", "exec"), notebook)
    exec(compile(statistician, "README (statistician)", "exec"), notebook)
    assert (tmp_path / "records.ris").is_file()
