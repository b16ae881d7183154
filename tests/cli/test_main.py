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
            words = re.match(r"[a-z]+(?:-[a-z]+)*(?: [a-z]+(?:-[a-z]+)*)*", cell[1])
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
    for bundled in bundled_protocol.parent.glob("rtx-ssc-calcinosis.*"):
        shutil.copyfile(bundled, tmp_path / "protocols" / bundled.name)
    shutil.copyfile(data / "pubmed" / "pubmed1.xml", tmp_path / "pubmed-result.xml")
    shutil.copyfile(data / "import" / "embase.ris", tmp_path / "embase.ris")
    author, statistician = _readme_python_blocks()
    notebook: dict[str, object] = {}  # one namespace, as in a notebook
    exec(compile(author, "README (review author)", "exec"), notebook)
    exec(compile(statistician, "README (statistician)", "exec"), notebook)
    assert (tmp_path / "records.ris").is_file()
    with notebook["Review"].open("my-review") as review:  # type: ignore[attr-defined]
        found = [
            (c.study, c.events, c.assessed) for c in review.extraction.counts("clinical_response")
        ]
    assert found == [("Narváez 2019", 4, 8)]


def test_the_readme_statisticians_commands_run_on_the_bundled_counts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import shlex
    import shutil

    root = Path(__file__).resolve().parents[2]
    readme = (root / "README.md").read_text(encoding="utf-8")
    section = readme.split("### Statistician", 1)[1].split("\n## ", 1)[0]
    commands = section.replace("\\\n", " ").split("\n")
    runs = [shlex.split(c.strip()) for c in commands if c.strip().startswith("casepool ")]
    assert [r[1] for r in runs] == ["pool", "sensitivity"]
    monkeypatch.chdir(tmp_path)
    shutil.copytree(root / "protocols", tmp_path / "protocols")
    for args in runs:
        result = runner.invoke(app, args[1:])
        assert result.exit_code == 0, (args, result.output)
    assert (tmp_path / "forest.pdf").read_bytes().startswith(b"%PDF")
    assert (tmp_path / "leave-one-out.png").read_bytes().startswith(b"\x89PNG")


def test_the_top_level_help_describes_what_the_commands_do() -> None:
    text = runner.invoke(app, ["--help"]).stdout
    description = text.split("Options", 1)[0]
    for promised in ("screening", "extraction", "appraisal"):
        assert promised not in description, f"--help promises {promised}, which is not built"


def test_protocol_check_json_lists_every_problem_with_its_place(tmp_path: Path) -> None:
    import json

    bad = tmp_path / "bad.toml"
    bad.write_text("[review]\ntitle = 'x'\n")
    result = runner.invoke(app, ["protocol", "check", str(bad), "--json"])
    assert result.exit_code == 1
    report = json.loads(result.stdout)
    assert (report["file"], report["valid"]) == (str(bad), False)
    assert len(report["problems"]) == 7
    assert report["problems"][0] == {
        "line": 1,
        "column": None,
        "path": "review.question",
        "message": "required key is missing",
    }
    broken = tmp_path / "broken.toml"
    broken.write_text("[review\n")
    report = json.loads(runner.invoke(app, ["protocol", "check", str(broken), "--json"]).stdout)
    (problem,) = report["problems"]
    assert (problem["line"], problem["column"], problem["path"]) == (1, 8, "")
    assert problem["message"].startswith("TOML syntax error: ")
    missing = runner.invoke(app, ["protocol", "check", str(tmp_path / "no.toml"), "--json"])
    assert missing.exit_code == 1
    assert json.loads(missing.stdout)["problems"][0]["message"] == "no such protocol file"


def test_protocol_check_json_of_a_valid_protocol_says_so(bundled_protocol: Path) -> None:
    import json

    result = runner.invoke(app, ["protocol", "check", str(bundled_protocol), "--json"])
    report = json.loads(result.stdout)
    assert (report["valid"], report["problems"]) == (True, [])
    assert report["outcomes"][0] == "clinical_response"


def test_a_problem_in_a_section_a_command_does_not_use_is_a_warning_not_a_refusal(
    review_dir: Path,
) -> None:
    from stores import store_snapshot

    path = review_dir / "protocol.toml"
    path.write_text(
        path.read_text(encoding="utf-8").replace('method = "GLMM"', 'method = "GLM"'),
        encoding="utf-8",
    )
    before = store_snapshot(review_dir)["protocol_versions"]
    result = runner.invoke(app, ["dedup", "--review", str(review_dir)])
    assert result.exit_code == 0, result.output
    warning = result.stderr.strip()
    assert warning.startswith(f"Warning: {path} has 1 problem in [analysis] (first: {path}, line ")
    assert "analysis.primary.method: 'GLM' is not one of" in warning
    assert warning.endswith(
        "this command does not use them, so it runs with protocol version 1 as recorded at "
        f"{before[0]['recorded_at']}; fix the file before a command that needs those sections"
    )
    assert store_snapshot(review_dir)["protocol_versions"] == before  # not recorded
    for args in (
        ["export", str(review_dir / "out.ris")],
        ["search", "log"],
        ["protocol", "history"],
    ):
        assert runner.invoke(app, [*args, "--review", str(review_dir)]).exit_code == 0


def test_a_problem_in_a_section_the_command_uses_still_refuses(review_dir: Path) -> None:
    path = review_dir / "protocol.toml"
    text = path.read_text(encoding="utf-8").replace(
        "[search.pubmed]", "[search.pubmed]\nmaxdate = 2"
    )
    path.write_text(text, encoding="utf-8")
    result = runner.invoke(app, ["search", "--review", str(review_dir), "--email", "a@b.org"])
    assert result.exit_code == 1
    assert "search.pubmed.maxdate: should be a string in quotes (got 2)" in result.stderr
    assert runner.invoke(app, ["dedup", "--review", str(review_dir)]).exit_code == 0


def test_init_over_an_edited_protocol_refuses_unless_forced(
    tmp_path: Path, bundled_protocol: Path
) -> None:
    folder = tmp_path / "rv"
    runner.invoke(app, ["init", str(folder), "--protocol", str(bundled_protocol)])
    path = folder / "protocol.toml"
    path.write_text(path.read_text(encoding="utf-8").replace("blind = true", "blind = false"))
    assert runner.invoke(app, ["protocol", "history", "-r", str(folder)]).exit_code == 0
    edited = path.read_text(encoding="utf-8")
    again = runner.invoke(app, ["init", str(folder), "--protocol", str(bundled_protocol)])
    assert again.exit_code == 1
    assert again.stderr.startswith(f"Error: {path} (protocol version 2, recorded 20")
    assert again.stderr.rstrip().endswith(
        f"differs from {bundled_protocol}; init would replace it. To amend the review, edit "
        f"{path} (the next command records it); or give --force to replace it with "
        f"{bundled_protocol}, recorded as amendment 3"
    )
    assert path.read_text(encoding="utf-8") == edited  # the edit is still there
    forced = runner.invoke(
        app, ["init", str(folder), "--protocol", str(bundled_protocol), "--force"]
    )
    assert forced.exit_code == 0, forced.output
    assert path.read_bytes() == bundled_protocol.read_bytes()
    assert forced.stdout.startswith("Recorded protocol amendment 3 ")


def test_protocol_show_and_diff_give_recorded_versions(
    tmp_path: Path, bundled_protocol: Path
) -> None:
    import json

    folder = tmp_path / "rv"
    runner.invoke(app, ["init", str(folder), "--protocol", str(bundled_protocol)])
    path = folder / "protocol.toml"
    original = path.read_text(encoding="utf-8")
    path.write_text(original.replace("blind = true", "blind = false"), encoding="utf-8")
    shown = runner.invoke(app, ["protocol", "show", "1", "-r", str(folder)])
    assert shown.exit_code == 0 and shown.stdout == original
    changes = runner.invoke(app, ["protocol", "diff", "1", "2", "-r", str(folder)])
    assert changes.exit_code == 0
    lines = changes.stdout.splitlines()
    assert lines[0].startswith("--- protocol version 1 (original, ")
    assert lines[1].startswith("+++ protocol version 2 (amendment, ")
    assert "-blind = true" in lines and "+blind = false" in lines
    as_json = json.loads(
        runner.invoke(app, ["protocol", "diff", "1", "-r", str(folder), "--json"]).stdout
    )
    assert (as_json["from"], as_json["to"]) == (1, 2) and "+blind = false" in as_json["diff"]
    same = runner.invoke(app, ["protocol", "diff", "2", "2", "-r", str(folder)])
    assert same.stdout == "Versions 2 and 2 are the same text.\n"
    missing = runner.invoke(app, ["protocol", "show", "7", "-r", str(folder)])
    assert missing.exit_code == 1
    assert missing.stderr == (
        "Error: there is no protocol version 7; the review has versions 1 to 2 "
        "(casepool protocol history)\n"
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["import", "x.ris", "--source", "s", "--format", "bib"],
            "Invalid value for '--format' / '-f': 'bib' is not one of 'auto', 'ris', 'nbib', "
            "'csv', 'tsv', 'xlsx', 'pubmed-xml'",
        ),
        (["dedup", "undo", "abc"], "Invalid value for 'cluster': 'abc' is not a whole number"),
        (
            ["search", "--batch-size", "0"],
            "Invalid value for '--batch-size': 0 is below the smallest allowed value, 1",
        ),
        (
            ["search", "--datetype", "xdat"],
            "Invalid value for '--datetype': 'xdat' is not one of 'pdat', 'edat', 'mdat'",
        ),
        (
            ["search", "--mindate", "2020/13", "--maxdate", "2021"],
            "Invalid value for '--mindate': '2020/13' is not a calendar date; check the month "
            "and day",
        ),
        (
            ["search", "--mindate", "2021", "--maxdate", "2020"],
            "Invalid value for '--mindate' / '--maxdate': --mindate 2021 is after --maxdate 2020",
        ),
        (
            ["search", "--email", "nope"],
            "Invalid value for '--email': 'nope' is not an e-mail address; NCBI needs a working "
            "address to contact you about your requests (--email or NCBI_EMAIL)",
        ),
        (
            ["search", "--query", " "],
            "Invalid value for '--query': the query is empty; give a PubMed query",
        ),
        (
            ["import", "x.ris", "--source", " "],
            "Invalid value for '--source': the source name is empty; name the database, "
            "e.g. --source embase",
        ),
        (["protocol", "show", "x"], "Invalid value for 'version': 'x' is not a whole number"),
    ],
)
def test_every_bad_option_value_is_a_usage_error_in_plain_words(
    sqlite_review_dir: Path, args: list[str], message: str
) -> None:
    result = runner.invoke(app, [*args, "--review", str(sqlite_review_dir)])
    assert result.exit_code == 2, result.output
    assert result.stderr.rstrip().endswith(f"Error: {message}")
