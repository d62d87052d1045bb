"""The loader: positions, folders and merging, Jsonnet, and refusal of hostile input."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from generators.spec.load import MAX_FILE_BYTES, Position, load
from generators.spec.problems import SpecError


def problems_of(path, **kwargs) -> list[str]:
    with pytest.raises(SpecError) as info:
        load(path, **kwargs)
    return [p.format() for p in info.value.problems]


def test_yaml_positions_point_at_keys_and_items(write):
    path = write(
        "spec/aitbc.yaml",
        """
        # yaml-language-server: $schema=../generators/spec/schema.json
        services:
          coordinator-api:
            slos:
              - name: availability
                objective: 99.9
        """,
    )
    doc = load(path)
    assert doc.data == {"services": {"coordinator-api": {"slos": [{"name": "availability", "objective": 99.9}]}}}
    assert doc.files == ["spec/aitbc.yaml"]
    assert doc.locate(("services", "coordinator-api")) == Position("spec/aitbc.yaml", 3, 3)
    assert doc.locate(("services", "coordinator-api", "slos", 0)) == Position("spec/aitbc.yaml", 5, 9)
    assert doc.locate(("services", "coordinator-api", "slos", 0, "objective")) == Position("spec/aitbc.yaml", 6, 9)
    # A path that does not exist falls back to its nearest existing ancestor.
    assert doc.locate(("services", "coordinator-api", "slos", 0, "missing", 3)) == Position("spec/aitbc.yaml", 5, 9)
    assert doc.source_of(("services",)) == "spec/aitbc.yaml"


def test_file_names_outside_the_current_directory_are_absolute(write, tmp_path, monkeypatch):
    path = write("spec/a.yaml", "a: [1\n")
    (tmp_path / "elsewhere").mkdir()
    monkeypatch.chdir(tmp_path / "elsewhere")
    assert problems_of(path)[0].startswith(f"{path}:2:1: error: ")
    monkeypatch.chdir(tmp_path)
    assert problems_of(Path("spec/a.yaml"))[0].startswith("spec/a.yaml:2:1: error: ")


def test_scalars_keep_yaml_meaning_but_dates_and_keys_stay_text(write):
    doc = load(write("a.yaml", "on: yes\n1: 1e5\nwhen: 2024-01-02\nratio: 0.5\nname: '010'\nnone: ~\n"))
    assert doc.data == {"on": True, "1": 100000.0, "when": "2024-01-02", "ratio": 0.5, "name": "010", "none": None}


def test_merge_keys_are_applied_and_explicit_keys_win(write):
    doc = load(write("a.yaml", "base: &b {team: core, tier: 2}\nsvc:\n  <<: *b\n  tier: 1\n"))
    assert doc.data["svc"] == {"tier": 1, "team": "core"}


def test_malformed_yaml_is_one_problem_at_the_parser_mark(write):
    path = write("spec/bad.yaml", "services:\n  api: [1, 2\n  web: 3\n")
    [line] = problems_of(path)
    assert line.startswith("spec/bad.yaml:3:")
    assert line.endswith("(load/yaml)")


def test_parse_errors_in_several_files_are_all_reported(write):
    write("spec/a.yaml", "a: [\n")
    write("spec/b.json", '{"b": 1,}\n')
    write("spec/c.yaml", "c: 1\n")
    lines = problems_of(Path("spec"))
    assert [line.split(":")[0] for line in lines] == ["spec/a.yaml", "spec/b.json"]


def test_duplicate_key_in_one_mapping_is_a_problem(write):
    path = write("spec/a.yaml", "services:\n  api:\n    team: a\n    team: b\n")
    assert problems_of(path) == [
        "spec/a.yaml:4:5: error: services.api.team: duplicate key 'team' (first defined at spec/a.yaml:3:5) "
        "(load/duplicate-key)"
    ]


def test_folder_merges_top_level_mappings_one_level_deep(write):
    write("spec/a.yaml", "version: 1\nservices:\n  a:\n    team: x\n")
    write("spec/sub/b.json", '{"services": {"b": {"team": "y"}}}\n')
    write("spec/_draft.yaml", "services: {c: {}}\n")
    write("spec/.hidden.yaml", "services: {d: {}}\n")
    write("spec/lib.libsonnet", "{}")
    write("spec/notes.txt", "not a spec")
    doc = load(Path("spec"))
    assert doc.files == ["spec/a.yaml", "spec/sub/b.json"]
    assert doc.data == {"version": 1, "services": {"a": {"team": "x"}, "b": {"team": "y"}}}
    assert doc.locate(("services", "b", "team")) == Position("spec/sub/b.json", 1, 21)
    assert doc.locate(("services", "a")) == Position("spec/a.yaml", 3, 3)


def test_same_entry_in_two_files_names_both_places(write):
    write("spec/a.yaml", "version: 1\nservices:\n  a:\n    team: x\n")
    write("spec/b.yaml", "version: 2\nservices:\n  a:\n    team: y\n")
    assert problems_of(Path("spec")) == [
        "spec/b.yaml:1:1: error: version: duplicate definition of version (first defined at spec/a.yaml:1:1) "
        "(load/duplicate)",
        "spec/b.yaml:3:3: error: services.a: duplicate definition of services.a (first defined at spec/a.yaml:3:3) "
        "(load/duplicate)",
    ]


def test_json_values_are_json_and_positions_exact(write):
    path = write("a.json", '{\n\t"n": 1e3,\n\t"s": "x\\/y",\n\t"l": [true, null]\n}\n')
    doc = load(path)
    assert doc.data == {"n": 1000.0, "s": "x/y", "l": [True, None]}
    assert doc.locate(("l", 1)) == Position("a.json", 4, 14)


def test_json_syntax_error_has_a_position(write):
    assert problems_of(write("a.json", '{\n  "a": 1\n  "b": 2\n}\n')) == [
        "a.json:3:3: error: Expecting ',' delimiter (load/json)"
    ]


def test_top_level_must_be_a_mapping(write):
    assert problems_of(write("a.yaml", "- 1\n- 2\n")) == [
        "a.yaml:1:1: error: the top level must be a mapping, not a list (load/top-level)"
    ]
    assert problems_of(write("b.yaml", "# only a comment\n")) == [
        "b.yaml:1:1: error: the file is empty (the top level must be a mapping) (load/top-level)"
    ]


def test_unknown_tags_and_complex_keys_are_problems(write):
    path = write("a.yaml", "a: !!python/object:os.system x\nb: !custom 1\n? [1, 2]\n: c\n")
    assert problems_of(path) == [
        "a.yaml:1:4: error: a: unsupported tag 'tag:yaml.org,2002:python/object:os.system' (load/tag)",
        "a.yaml:2:4: error: b: unsupported tag '!custom' (load/tag)",
        "a.yaml:3:3: error: mapping keys must be non-empty scalars (load/key)",
    ]


def test_alias_bomb_is_refused_fast(write):
    lines = ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for i in range(1, 10):
        lines.append(f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]")
    path = write("bomb.yaml", "\n".join(lines) + "\n")
    start = time.monotonic()
    [line] = problems_of(path)
    assert time.monotonic() - start < 1.0
    assert line.endswith("(load/alias-bomb)")


def test_a_few_aliases_are_fine(write):
    doc = load(write("a.yaml", "x: &x {a: [1, 2]}\ny: *x\n"))
    assert doc.data == {"x": {"a": [1, 2]}, "y": {"a": [1, 2]}}
    assert doc.data["x"] is not doc.data["y"]


def test_recursive_alias_is_a_problem(write):
    assert problems_of(write("a.yaml", "a: &a [*a]\n")) == ["a.yaml:1:4: error: a[0]: recursive alias (load/alias)"]


def test_deep_nesting_is_a_problem_not_a_crash(write):
    assert problems_of(write("a.yaml", "a: " + "[" * 5000 + "]" * 5000 + "\n"))[0].endswith("(load/yaml)")


def test_large_file_is_refused_before_parsing(write):
    path = write("big.yaml", b"a: 1\n" + b"#" * MAX_FILE_BYTES)
    [line] = problems_of(path)
    assert line.startswith("big.yaml:1:1: error: file is ") and line.endswith("(load/size)")


def test_invalid_utf8_is_a_problem(write):
    assert problems_of(write("a.yaml", b"a: \xff\n")) == [
        "a.yaml:1:1: error: file is not valid UTF-8: invalid start byte at byte 3 (load/encoding)"
    ]


def test_missing_path_and_empty_folder(write, tmp_path):
    assert problems_of(Path("nope.yaml")) == ["nope.yaml:1:1: error: no such file or folder (load/missing)"]
    (tmp_path / "empty").mkdir()
    assert problems_of(Path("empty"))[0].endswith("(load/empty)")


def test_non_finite_numbers_are_problems(write):
    assert problems_of(write("a.yaml", "a: .nan\n")) == ["a.yaml:1:4: error: a: .nan is not a finite number (load/number)"]


# --- Jsonnet -------------------------------------------------------------------------


def test_jsonnet_with_ext_and_tla_vars_and_imports(write):
    write("spec/lib/common.libsonnet", "{ team: 'core' }\n")
    path = write(
        "spec/main.jsonnet",
        """
        local common = import 'lib/common.libsonnet';
        function(tier='2') {
          env: std.extVar('env'),
          services: {
            api: common { tier: tier },
          },
        }
        """,
    )
    doc = load(path, ext_vars={"env": "prod"}, tla_vars={"tier": "1"})
    assert doc.data == {"env": "prod", "services": {"api": {"team": "core", "tier": "1"}}}
    assert doc.locate(("services", "api")) == Position("spec/main.jsonnet", 5, 5)
    assert doc.locate(("services", "api", "team")) == Position("spec/main.jsonnet", 5, 5)  # from the import


def test_jsonnet_imports_are_jailed_to_the_spec_folder(write):
    write("secret.libsonnet", "{ token: 'x' }\n")
    path = write("spec/main.jsonnet", "local s = import '../secret.libsonnet';\n{ a: s }\n")
    [line] = problems_of(path)
    assert line.startswith("spec/main.jsonnet:1:11: error: couldn't open import \"../secret.libsonnet\": ")
    assert "outside the spec folder" in line and line.endswith("(load/jsonnet-import)")


def test_jsonnet_errors_carry_their_position(write):
    assert problems_of(write("spec/a.jsonnet", "{\n  a: 1 +,\n}\n")) == [
        'spec/a.jsonnet:2:9: error: unexpected: "," while parsing terminal (load/jsonnet)'
    ]
    assert problems_of(write("spec/b.jsonnet", "{\n  a: std.extVar('missing'),\n}\n")) == [
        "spec/b.jsonnet:2:6: error: undefined external variable: missing (load/jsonnet)"
    ]


def test_duplicate_key_in_json_is_a_problem_too(write):
    assert problems_of(write("a.json", '{\n  "a": 1,\n  "a": 2\n}\n')) == [
        "a.json:3:3: error: a: duplicate key 'a' (first defined at a.json:2:3) (load/duplicate-key)"
    ]


def test_jsonnet_top_level_must_be_a_mapping(write):
    assert problems_of(write("spec/a.jsonnet", "[1, 2]\n")) == [
        "spec/a.jsonnet:1:1: error: the top level must be a mapping, not a list (load/top-level)"
    ]
