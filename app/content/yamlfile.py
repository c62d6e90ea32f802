"""Read YAML while remembering the line of every key, so problems can name it."""

from __future__ import annotations

from typing import Any

import yaml

Lines = dict[tuple, int]

_TIMESTAMP = "tag:yaml.org,2002:timestamp"
_CONSTRUCTOR = yaml.constructor.SafeConstructor()
# libyaml's parser where PyYAML was built with it (it is in the wheels): the same nodes and marks, faster.
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class YamlError(ValueError):
    """YAML that cannot be parsed, with the line where parsing failed."""

    def __init__(self, line: int, message: str):
        super().__init__(message)
        self.line = line


def load(text: str, first_line: int = 1) -> tuple[Any, Lines]:
    """Parse YAML text; return the data and a map from key path to line number.

    Dates stay strings, so the schemas decide what a valid date is; duplicate
    keys are an error instead of silently keeping the last one.
    """
    try:
        node = yaml.compose(text, Loader=_LOADER)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = first_line + (mark.line if mark else 0)
        problem = getattr(exc, "problem", None) or str(exc)
        raise YamlError(line, f"not valid YAML: {problem}") from None
    lines: Lines = {}
    if node is None:
        return None, lines
    return _build(node, (), lines, first_line - 1), lines


def _build(node: yaml.Node, path: tuple, lines: Lines, offset: int) -> Any:
    lines[path] = node.start_mark.line + 1 + offset
    if isinstance(node, yaml.MappingNode):
        result: dict = {}
        for key_node, value_node in node.value:
            key = _scalar(key_node, offset)
            if key in result:
                raise YamlError(key_node.start_mark.line + 1 + offset, f"duplicate key '{key}'")
            result[key] = _build(value_node, (*path, key), lines, offset)
            lines[(*path, key)] = key_node.start_mark.line + 1 + offset
        return result
    if isinstance(node, yaml.SequenceNode):
        return [_build(item, (*path, i), lines, offset) for i, item in enumerate(node.value)]
    return _scalar(node, offset)


def _scalar(node: yaml.Node, offset: int) -> Any:
    if not isinstance(node, yaml.ScalarNode):
        raise YamlError(node.start_mark.line + 1 + offset, "a key must be plain text")
    if node.tag == _TIMESTAMP:
        return node.value
    return _CONSTRUCTOR.construct_object(node)


def line_of(lines: Lines, path: tuple, default: int) -> int:
    """Return the line of the deepest known part of a key path."""
    while path:
        if path in lines:
            return lines[path]
        path = path[:-1]
    return default
