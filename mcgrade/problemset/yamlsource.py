"""YAML text → plain Python values, with the line of every key and value kept aside.

PyYAML's constructors drop line numbers, and authors need ``file:line`` in every error, so
the document is *composed* (nodes carry ``start_mark``) and the nodes are walked here into
dicts, lists and scalars plus a side table ``path → line``. libyaml parses where PyYAML
has it (``_fast_root``: a student copy's 50 KB of digests in 0.017 s instead of 0.12 s, on
every student's ``pytest``), and PyYAML's own composer builds the nodes, so that deep
nesting is a RecursionError, never a C stack overflow; a document libyaml refuses is read
again by PyYAML alone, whose messages the errors quote. (libyaml is a little more lenient
than PyYAML, e.g. with a tab after a colon, which it reads as a space.) A path is a
tuple of keys and list indices, e.g. ``("problems", 3, "derivative", "wrt")``.

Differences from ``yaml.safe_load``, on purpose: a duplicate key is an error (PyYAML
keeps the last one silently); mapping keys are always strings (``no:`` is the key ``"no"``,
not ``False``); a plain scalar such as ``1e-6`` is a number, as in YAML 1.2 (PyYAML reads
it as a string); aliases that expand to a huge or self-referencing tree are refused.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import yaml
from yaml.composer import Composer
from yaml.constructor import SafeConstructor
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode
from yaml.resolver import Resolver

try:
    from yaml._yaml import CParser
    LIBYAML = True
except ImportError:              # PyYAML built without libyaml: the pure-Python parser
    LIBYAML = False

from mcgrade.errors import ProblemSetError

Path = tuple[str | int, ...]

MAX_NODES = 200_000
"""More nodes than this (after expanding aliases) is refused, not walked."""

_FLOAT_1_2 = re.compile(r"[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?")
_MAP_TAG, _SEQ_TAG = "tag:yaml.org,2002:map", "tag:yaml.org,2002:seq"
_MERGE_TAG, _STR_TAG = "tag:yaml.org,2002:merge", "tag:yaml.org,2002:str"


@dataclass(frozen=True)
class YamlDocument:
    """A parsed YAML file: its values, and where each key and value was written."""

    path: str
    data: Any
    value_lines: dict[Path, int] = field(default_factory=dict)
    key_lines: dict[Path, int] = field(default_factory=dict)

    def line(self, where: Path) -> int | None:
        """The line of the value at ``where``, else of its nearest written ancestor."""
        for end in range(len(where), -1, -1):
            if where[:end] in self.value_lines:
                return self.value_lines[where[:end]]
        return None

    def key_line(self, where: Path) -> int | None:
        """The line of the key that introduces ``where`` (falls back to :meth:`line`)."""
        return self.key_lines.get(where) or self.line(where)

    def crumb(self, where: Path) -> str:
        """``("problems", 3, "at")`` → ``problems[3] (id='dz_dw') → at``."""
        parts: list[str] = []
        node: Any = self.data
        for step in where:
            if isinstance(step, int):
                node = node[step] if isinstance(node, list) and step < len(node) else None
                text = f"[{step}]"
                if isinstance(node, dict) and isinstance(node.get("id"), str):
                    text += f" (id={node['id']!r})"
                if parts:
                    parts[-1] += text
                else:
                    parts.append(text)
            else:
                node = node.get(step) if isinstance(node, dict) else None
                parts.append(str(step))
        return " → ".join(parts)

    def error(self, where: Path, message: str, line: int | None = None) -> ProblemSetError:
        """An error about the value at ``where``: ``… → mapping → key: message``."""
        cut = max((i for i, s in enumerate(where) if isinstance(s, str)), default=0)
        key = "".join(str(s) if isinstance(s, str) else f"[{s}]" for s in where[cut:])
        text = f"{key}: {message}" if key else message
        return ProblemSetError(text, self.path, line or self.line(where),
                               self.crumb(where[:cut]))

    def error_in(self, where: Path, message: str, line: int | None = None) -> ProblemSetError:
        """An error about the mapping at ``where`` as a whole (a key missing or unknown)."""
        return ProblemSetError(message, self.path, line or self.line(where), self.crumb(where))


def load_yaml(text: str, path: str = "<string>") -> YamlDocument:
    """Parse one YAML document safely, keeping lines; syntax errors raise ProblemSetError."""
    root = _fast_root(text)
    if root is _UNREAD:
        root = _root(text, path)
    builder = _Builder(path)
    data = builder.build(root, ()) if root is not None else None
    source = YamlDocument(path, data, builder.value_lines, builder.key_lines)
    if builder.duplicate is not None:
        where, key, line, first = builder.duplicate
        raise source.error_in(
            where, f"duplicate key {key!r} (first at line {first}); keep only one", line)
    return source


_UNREAD = Node("", "", None, None)     # what _fast_root gives when it could not read


def _fast_root(text: str) -> Node | None:
    """The document's root node, parsed by libyaml and composed by PyYAML; ``_UNREAD``
    when libyaml is missing or refuses the text (``_root`` then reads it, and says why)."""
    if not LIBYAML:
        return _UNREAD
    try:
        loader = _FastComposer(text)
    except ValueError:                   # text it can't encode (a lone surrogate)
        return _UNREAD
    try:
        return loader.get_single_node()
    except (yaml.YAMLError, RecursionError, ValueError):
        return _UNREAD
    finally:
        loader.dispose()


if LIBYAML:
    class _FastComposer(CParser, Composer, Resolver):
        """libyaml's events, PyYAML's composer and resolver: SafeLoader's nodes."""

        def __init__(self, text: str) -> None:
            CParser.__init__(self, text)
            Composer.__init__(self)
            Resolver.__init__(self)

        get_single_node = Composer.get_single_node
        check_event = CParser.check_event


def _root(text: str, path: str) -> Node | None:
    """The document's root node, by PyYAML alone; ProblemSetError on a syntax error."""
    try:
        loader = yaml.SafeLoader(text)
    except yaml.reader.ReaderError as exc:   # a control character, such as NUL
        line = text.count("\n", 0, exc.position) + 1
        code = exc.character if isinstance(exc.character, int) else ord(exc.character)
        raise ProblemSetError(f"invalid YAML: the control character U+{code:04X} is not "
                              f"allowed; remove it", path, line) from None
    try:
        root = loader.get_single_node()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        mark_line = mark.line + 1 if mark else None
        column = f" at column {mark.column + 1}" if mark else ""
        context = exc.context
        if context and exc.context_mark and mark and exc.context_mark.line != mark.line:
            context += f" (from line {exc.context_mark.line + 1})"
        problem = ", ".join(t for t in (context, exc.problem) if t) or "not valid YAML"
        raise ProblemSetError(
            f"invalid YAML{column}: {problem}; check the indentation, and quote text "
            f"that contains ': ' or starts with one of [ {{ * & ! | > ' \" %", path, mark_line
        ) from None
    except RecursionError:
        raise ProblemSetError("the YAML is nested too deeply to read", path, 1) from None
    finally:
        loader.dispose()
    return root


class _Builder:
    """Walks composed nodes into plain values, filling the line tables."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.constructor = SafeConstructor()
        self.value_lines: dict[Path, int] = {}
        self.key_lines: dict[Path, int] = {}
        self.duplicate: tuple[Path, str, int, int] | None = None
        self.count = 0
        self.active: set[int] = set()   # nodes being walked: an alias to one is a cycle

    def fail(self, node: Node, message: str) -> ProblemSetError:
        return ProblemSetError(message, self.path, node.start_mark.line + 1)

    def build(self, node: Node, where: Path) -> Any:
        self.count += 1
        if self.count > MAX_NODES:
            raise self.fail(node, f"the file is too large: more than {MAX_NODES} values "
                                  f"once aliases are expanded")
        if id(node) in self.active:
            raise self.fail(node, "an alias refers to a value that contains it; "
                                  "write the value out instead")
        self.value_lines[where] = node.start_mark.line + 1
        if isinstance(node, ScalarNode):
            return self.scalar(node)
        self.active.add(id(node))
        try:
            if isinstance(node, SequenceNode) and node.tag == _SEQ_TAG:
                return [self.build(item, where + (i,)) for i, item in enumerate(node.value)]
            if isinstance(node, MappingNode) and node.tag == _MAP_TAG:
                return self.mapping(node, where)
            raise self.fail(node, f"unsupported YAML tag {_short(node.tag)}; remove it")
        finally:
            self.active.discard(id(node))

    def scalar(self, node: ScalarNode) -> Any:
        # plain (unquoted): PyYAML's style None, libyaml's ""
        if node.tag == _STR_TAG and not node.style and _FLOAT_1_2.fullmatch(node.value):
            return float(node.value)   # YAML 1.2 numbers such as 1e-6
        try:
            return self.constructor.construct_object(node, deep=True)
        except yaml.YAMLError:
            raise self.fail(node, f"unsupported YAML tag {_short(node.tag)}; remove it") \
                from None
        except (ValueError, KeyError, TypeError, OverflowError):   # `!!bool maybe`
            raise self.fail(node, f"{node.value[:40]!r} is not a {_short(node.tag)} value; "
                                  "remove the tag or fix the value") from None

    def mapping(self, node: MappingNode, where: Path) -> dict[str, Any]:
        result: dict[str, Any] = {}
        merges = [v for k, v in node.value if k.tag == _MERGE_TAG]
        for merged in merges:   # `<<: *base` supplies defaults; explicit keys win
            for one in (merged.value if isinstance(merged, SequenceNode) else [merged]):
                value = self.build(one, where)
                if not isinstance(value, dict):
                    raise self.fail(one, "'<<' must merge a mapping")
                result.update({k: v for k, v in value.items() if k not in result})
        self.value_lines[where] = node.start_mark.line + 1
        seen: dict[str, int] = {}
        for key_node, value_node in node.value:
            if key_node.tag == _MERGE_TAG:
                continue
            if not isinstance(key_node, ScalarNode):
                raise self.fail(key_node, "a key must be a plain name, not a list or mapping")
            key, line = str(key_node.value), key_node.start_mark.line + 1
            if key in seen and self.duplicate is None:
                self.duplicate = (where, key, line, seen[key])
            seen[key] = line
            self.key_lines[where + (key,)] = line
            result[key] = self.build(value_node, where + (key,))
        return result


def _short(tag: str) -> str:
    """``tag:yaml.org,2002:python/object`` → ``!!python/object``, as it was written."""
    return tag.replace("tag:yaml.org,2002:", "!!")
