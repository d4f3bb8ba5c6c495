"""Safe YAML loading with bounds (nesting, alias expansion, duplicate keys) and values cut short for messages."""

import reprlib
import typing

import yaml

from .errors import ConfigError

SHOWN_CHARS = 80  # a value echoed in an error message is cut to about this many characters
MAX_DEPTH = 10  # YAML nesting; a config needs 3 (sections, keys, lists)
MAX_NODES = 10_000  # YAML values counted with every alias expanded


def show(value):
    """`repr(value)` cut to about SHOWN_CHARS characters; never expands a large structure in full."""
    text = _SHORT_REPR.repr(value)
    return text if len(text) <= SHOWN_CHARS else text[: SHOWN_CHARS - 1] + "…"


_SHORT_REPR = reprlib.Repr()
_SHORT_REPR.maxstring = _SHORT_REPR.maxother = _SHORT_REPR.maxlong = SHOWN_CHARS
_SHORT_REPR.maxlevel, _SHORT_REPR.maxlist, _SHORT_REPR.maxdict = 3, 8, 8


class YamlRefused(ConfigError):
    """YAML nested too deep, expanding to too many values, or holding a key twice."""


class _BoundedLoader(yaml.SafeLoader):
    """PyYAML's safe loader, bounded: nesting depth and values counted with aliases expanded
    (an alias bomb is refused while its text is read), and no key twice in a mapping."""

    def __init__(self, stream):
        super().__init__(stream)
        self._depth, self._nodes, self._sizes = 0, 0, {}

    def compose_node(self, parent, index):
        if self.check_event(yaml.AliasEvent):
            node = self.anchors.get(self.peek_event().anchor)
            if node is not None and id(node) not in self._sizes:
                raise YamlRefused("an alias refers to the value that holds it")
            self._count(self._sizes.get(id(node), 1))
            return super().compose_node(parent, index)
        self._depth += 1
        if self._depth > MAX_DEPTH:
            raise YamlRefused(f"nested deeper than {MAX_DEPTH} levels")
        before = self._nodes
        self._count(1)
        node = super().compose_node(parent, index)
        self._sizes[id(node)] = self._nodes - before
        self._depth -= 1
        return node

    def _count(self, nodes):
        self._nodes += nodes
        if self._nodes > MAX_NODES:
            raise YamlRefused(f"more than {MAX_NODES} values once its aliases are expanded")

    def construct_mapping(self, node, deep=False):
        seen = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=True)
            if key_node.tag == "tag:yaml.org,2002:merge" or not isinstance(key, typing.Hashable):
                continue
            if key in seen:
                raise YamlRefused(f"{show(key)} appears twice (lines {seen[key]} and "
                               f"{key_node.start_mark.line + 1}); keep one")
            seen[key] = key_node.start_mark.line + 1
        return super().construct_mapping(node, deep)


def safe_load(stream):
    """Safe, bounded YAML loading; every failure, including PyYAML's non-YAMLError ones, becomes ConfigError."""
    try:
        return yaml.load(stream, Loader=_BoundedLoader)  # noqa: S506 (a SafeLoader subclass)
    except (UnicodeDecodeError, yaml.YAMLError) as exc:
        raise ConfigError(show_line(exc)) from None
    except (ValueError, TypeError, AttributeError, RecursionError) as exc:
        # an invalid date (2001-13-45), a bad explicit tag (!!int x), nesting too deep
        raise ConfigError(f"{type(exc).__name__}: {show_line(exc)}") from None


def show_line(exc):
    """The first line of an exception's message, cut to about SHOWN_CHARS characters."""
    line = (str(exc).splitlines() or [type(exc).__name__])[0]
    return line if len(line) <= SHOWN_CHARS else line[: SHOWN_CHARS - 1] + "…"


