"""YAML parsing that remembers where each value came from, and refuses what no document needs.

Validation errors must name a line (`path:line: field: problem`), but PyYAML's
`safe_load` forgets positions. We compose the node tree once, build Python
values from it, and keep the tree to map a pydantic error location back to a
line.

Composing also refuses, with the line: a key given twice in one mapping (YAML
would silently keep the last), and aliases that expand into a huge or endless
tree (a "billion laughs" bomb: a few hundred bytes whose expansion exhausts
memory in whatever walks the data next). Anchors and aliases of normal size
stay allowed: eval datasets use them.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import yaml

# libyaml's loader composes the same node tree, with line marks, about ten times faster.
_Loader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

MAX_ALIAS_EXPANSION = 100_000
"""Values that aliases may add to a document once expanded; a bomb adds millions."""


class YamlSyntaxError(ValueError):
    def __init__(self, line: int, message: str) -> None:
        super().__init__(message)
        self.line = line
        self.message = message


def _line(node: yaml.Node) -> int:
    return int(node.start_mark.line) + 1


def _children(node: yaml.Node) -> Iterator[yaml.Node]:
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            yield key
            yield value
    elif isinstance(node, yaml.SequenceNode):
        yield from node.value


def _check_duplicate_keys(node: yaml.MappingNode) -> None:
    seen: set[str] = set()
    for key, _value in node.value:
        if not isinstance(key, yaml.ScalarNode) or key.value == "<<":
            continue
        if key.value in seen:
            raise YamlSyntaxError(_line(key), f"invalid YAML: duplicate key {key.value!r} in one mapping")
        seen.add(key.value)


def _expanded_size(root: yaml.Node) -> int:
    """How many values the tree holds once every alias is expanded (iterative: no recursion limit)."""
    sizes: dict[int, int] = {}
    on_path: set[int] = set()
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, finished = stack.pop()
        key = id(node)
        if finished:
            on_path.discard(key)
            sizes[key] = 1 + sum(sizes[id(child)] for child in _children(node))
            continue
        if key in sizes:
            continue
        if key in on_path:
            raise YamlSyntaxError(_line(node), "invalid YAML: an alias refers to itself (endless data)")
        on_path.add(key)
        stack.append((node, True))
        stack.extend((child, False) for child in _children(node) if id(child) not in sizes)
    return sizes[id(root)]


def _check_tree(root: yaml.Node) -> None:
    """Duplicate keys anywhere, and aliases that expand beyond MAX_ALIAS_EXPANSION extra values."""
    seen: set[int] = set()
    shared: yaml.Node | None = None
    stack = [root]
    while stack:
        node = stack.pop()
        if id(node) in seen:
            shared = shared or node  # reached twice: an alias
            continue
        seen.add(id(node))
        if isinstance(node, yaml.MappingNode):
            _check_duplicate_keys(node)
        stack.extend(_children(node))
    if shared is not None and _expanded_size(root) > len(seen) + MAX_ALIAS_EXPANSION:
        raise YamlSyntaxError(
            _line(shared),
            f"invalid YAML: aliases expand to more than {MAX_ALIAS_EXPANSION:,} extra values (an alias bomb?)",
        )


def compose(text: str) -> yaml.Node | None:
    """Parse `text` into a node tree, raising YamlSyntaxError with a 1-based line."""
    try:
        root = yaml.compose(text, Loader=_Loader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else 1
        problem = exc.problem or str(exc)
        raise YamlSyntaxError(line, f"invalid YAML: {problem}") from exc
    except yaml.reader.ReaderError as exc:
        line = text[: max(exc.position, 0)].count("\n") + 1
        raise YamlSyntaxError(line, f"invalid YAML: {exc.reason} (character {exc.character!r})") from exc
    except yaml.YAMLError as exc:
        raise YamlSyntaxError(1, f"invalid YAML: {exc}") from exc
    except RecursionError as exc:
        raise YamlSyntaxError(1, "invalid YAML: nested too deeply") from exc
    if root is not None:
        _check_tree(root)
    return root


def _failing_scalar(node: yaml.Node) -> tuple[yaml.Node, str] | None:
    """The first scalar whose value cannot be built (a date like 2026-13-45), with the reason."""
    loader = yaml.SafeLoader("")
    seen: set[int] = set()
    stack = [node]
    try:
        while stack:
            current = stack.pop()
            if id(current) in seen:
                continue
            seen.add(id(current))
            if isinstance(current, yaml.ScalarNode):
                constructor = loader.yaml_constructors.get(current.tag)
                if constructor is None:
                    continue
                try:
                    constructor(loader, current)
                except (ValueError, TypeError, OverflowError) as exc:
                    return current, str(exc)
            stack.extend(reversed(list(_children(current))))
    finally:
        loader.dispose()
    return None


def construct(node: yaml.Node) -> Any:
    """Build plain Python values (dicts, lists, scalars) from a composed node.

    Raises YamlSyntaxError (with the line) for values YAML parses but cannot build:
    unknown tags, impossible dates, data nested too deeply.
    """
    loader = yaml.SafeLoader("")
    try:
        return loader.construct_document(node)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        raise YamlSyntaxError(mark.line + 1 if mark else 1, f"invalid YAML: {exc.problem}") from exc
    except (ValueError, TypeError, OverflowError) as exc:
        failing = _failing_scalar(node)
        if failing is None:
            raise YamlSyntaxError(_line(node), f"invalid YAML: {exc}") from exc
        bad, reason = failing
        raise YamlSyntaxError(_line(bad), f"invalid YAML: cannot read {bad.value!r}: {reason}") from exc
    except RecursionError as exc:
        raise YamlSyntaxError(_line(node), "invalid YAML: nested too deeply") from exc
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
