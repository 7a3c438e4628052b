"""`weir`'s table of commands: a command line naming one builds only its module's parsers,
so the table must name every command each module registers, and nothing else."""

from __future__ import annotations

import argparse
import importlib

import pytest
from weir_controlplane.cli import COMMANDS, build_parser, main


def _commands(parser: argparse.ArgumentParser) -> list[str]:
    (subparsers,) = (a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return list(subparsers.choices)


def test_the_table_names_each_module_s_commands() -> None:
    for module in set(COMMANDS.values()):
        parser = argparse.ArgumentParser()
        importlib.import_module(module).register(parser.add_subparsers())
        assert {c for c, m in COMMANDS.items() if m == module} == set(_commands(parser))


def test_a_named_command_builds_its_module_s_parsers_and_the_rest_build_all() -> None:
    assert _commands(build_parser("controlplane")) == ["dev", "controlplane", "daemon"]
    assert sorted(_commands(build_parser("-h"))) == sorted(COMMANDS)
    assert sorted(_commands(build_parser(None))) == sorted(COMMANDS)


def test_an_unknown_command_is_refused_with_every_command_listed(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit):
        main(["controlplan"])
    err = capsys.readouterr().err
    assert "invalid choice: 'controlplan'" in err and "'controlplane'" in err and "'runs'" in err
