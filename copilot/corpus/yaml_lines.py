"""YAML parsing that remembers where each value came from.

Validation errors must name a line (`path:line: field: problem`), but PyYAML's
`safe_load` forgets positions. We compose the node tree once, build Python
values from it, and keep the tree to map a pydantic error location back to a
line.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import yaml

# libyaml's loader composes the same node tree, with line marks, about ten times faster.
_Loader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class YamlSyntaxError(ValueError):
    def __init__(self, line: int, message: str) -> None:
        super().__init__(message)
        self.line = line
        self.message = message


def compose(text: str) -> yaml.Node | None:
    """Parse `text` into a node tree, raising YamlSyntaxError with a 1-based line."""
    try:
        return yaml.compose(text, Loader=_Loader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else 1
        problem = exc.problem or str(exc)
        raise YamlSyntaxError(line, f"invalid YAML: {problem}") from exc
    except yaml.YAMLError as exc:
        raise YamlSyntaxError(1, f"invalid YAML: {exc}") from exc


def construct(node: yaml.Node) -> Any:
    """Build plain Python values (dicts, lists, scalars) from a composed node."""
    loader = yaml.SafeLoader("")
    try:
        return loader.construct_document(node)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        raise YamlSyntaxError(mark.line + 1 if mark else 1, f"invalid YAML: {exc.problem}") from exc
    finally:
        loader.dispose()


def line_of(node: yaml.Node, loc: Sequence[int | str]) -> int:
    """1-based line of the value at `loc` (a pydantic error location) under `node`.

    Walks as deep as the location exists; a missing key resolves to the line of
    the mapping that should have held it.
    """
    current = node
    line = current.start_mark.line + 1
    for part in loc:
        if isinstance(current, yaml.MappingNode):
            found = None
            for key_node, value_node in current.value:
                if isinstance(key_node, yaml.ScalarNode) and key_node.value == str(part):
                    found = (key_node, value_node)
                    break
            if found is None:
                return line
            line = found[0].start_mark.line + 1
            current = found[1]
        elif isinstance(current, yaml.SequenceNode) and isinstance(part, int):
            if part >= len(current.value):
                return line
            current = current.value[part]
            line = current.start_mark.line + 1
        else:
            return line
    return line
