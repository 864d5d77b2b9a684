#!/usr/bin/python3
"""Validates scenario files against schema/scenario.schema.json, as an editor
with the yaml-language-server would.

  scripts/validate-schema.py PATH...            exit 0 when every file is valid
  scripts/validate-schema.py --expect-invalid LASTCALL PATH...
      exit 0 when every file is invalid, and `LASTCALL check` rejects each too
      (exit 2): the schema must reject what the parser rejects.

A PATH is a scenario file or a folder searched for *.yaml.

The YAML is read as YAML 1.2 reads it (and as lastcall's parser does): `on`,
`yes`, `no` are strings, not booleans, so `retry: {on: [...]}` keeps its key.
"""
import json
import pathlib
import re
import subprocess
import sys

import jsonschema
import yaml

SCHEMA = pathlib.Path(__file__).resolve().parent.parent / "schema" / "scenario.schema.json"


class Yaml12Loader(yaml.SafeLoader):
    """SafeLoader with YAML 1.2's booleans: only true and false."""


Yaml12Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
Yaml12Loader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"),
    list("tTfF"))


def errors_of(path, validator):
    try:
        document = yaml.load(pathlib.Path(path).read_text(), Loader=Yaml12Loader)
    except yaml.YAMLError as e:
        return [f"not YAML: {e}"]
    return [f"{'/'.join(map(str, e.absolute_path)) or '(top)'}: {e.message}"
            for e in validator.iter_errors(document)]


def scenario_files(paths):
    for path in map(pathlib.Path, paths):
        yield from sorted(path.rglob("*.yaml")) if path.is_dir() else [path]


def parser_rejects(lastcall, path):
    """Whether `lastcall check` refuses the file as a bad scenario (exit 2)."""
    return subprocess.run([lastcall, "check", str(path)], capture_output=True).returncode == 2


def main(argv):
    expect_invalid = argv[:1] == ["--expect-invalid"]
    if expect_invalid and len(argv) < 3 or not argv:
        print(__doc__, file=sys.stderr)
        return 2
    lastcall = argv[1] if expect_invalid else None
    files = list(scenario_files(argv[2:] if expect_invalid else argv))
    validator = jsonschema.Draft7Validator(json.loads(SCHEMA.read_text()))
    status = 0
    for path in files:
        errors = errors_of(path, validator)
        if expect_invalid and not parser_rejects(lastcall, path):
            print(f"{path}: `lastcall check` does not reject it: not a bad file")
            status = 1
        elif expect_invalid and not errors:
            print(f"{path}: accepted by the schema, but lastcall's parser rejects it")
            status = 1
        elif not expect_invalid and errors:
            print(f"{path}: " + "\n  ".join(errors))
            status = 1
        else:
            print(f"{path}: {'rejected' if expect_invalid else 'valid'}"
                  + (f" ({errors[0]})" if expect_invalid else ""))
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
