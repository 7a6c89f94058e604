"""Read YAML as nodes, so every value keeps its line and column for error messages."""

from __future__ import annotations

import difflib

import yaml

from helpdesk.gateway.ground.errors import UserError


def compose(text: str, source: str) -> yaml.Node | None:
    try:
        return yaml.compose(text, Loader=yaml.SafeLoader)
    except RecursionError:
        raise UserError(f"{source}: nested too deeply") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{source}:{mark.line + 1}:{mark.column + 1}" if mark else source
        raise UserError(f"{where}: not valid YAML: {getattr(exc, 'problem', exc)}") from None


class Nodes:
    """Typed access to YAML nodes of one file; every failure is a UserError with file:line:column."""

    def __init__(self, source: str):
        self.source = source

    def where(self, node: yaml.Node | None) -> str:
        if node is None:
            return self.source
        return f"{self.source}:{node.start_mark.line + 1}:{node.start_mark.column + 1}"

    def fail(self, node: yaml.Node | None, message: str) -> UserError:
        return UserError(f"{self.where(node)}: {message}")

    def mapping(self, node: yaml.Node, what: str, allowed: tuple[str, ...] | None = None) -> dict[str, yaml.Node]:
        if not isinstance(node, yaml.MappingNode):
            raise self.fail(node, f"{what} must be a mapping of name: value")
        result: dict[str, yaml.Node] = {}
        for key, value in node.value:
            name = str(key.value)
            if allowed is not None and name not in allowed:
                close = difflib.get_close_matches(name, allowed, n=1)
                hint = f"did you mean {close[0]!r}?" if close else f"expected one of {', '.join(allowed)}"
                raise self.fail(key, f"unknown field {name!r} in {what} ({hint})")
            if name in result:
                raise self.fail(key, f"{name!r} appears twice in {what}")
            result[name] = value
        return result

    def scalar(self, node: yaml.Node, what: str) -> str:
        if not isinstance(node, yaml.ScalarNode) or not str(node.value).strip() \
                or node.tag == "tag:yaml.org,2002:null":
            raise self.fail(node, f"{what} must be a non-empty text")
        return str(node.value).strip()

    def boolean(self, node: yaml.Node, what: str) -> bool:
        value = self.scalar(node, what).lower()
        if value not in ("true", "false", "yes", "no", "on", "off"):
            raise self.fail(node, f"{what} must be true or false, not {value!r}")
        return value in ("true", "yes", "on")

    def texts(self, node: yaml.Node, what: str) -> tuple[str, ...]:
        """A text or a list of texts."""
        if isinstance(node, yaml.SequenceNode):
            if not node.value:
                raise self.fail(node, f"{what} must not be an empty list")
            return tuple(self.scalar(n, what) for n in node.value)
        return (self.scalar(node, what),)

    def sequence(self, node: yaml.Node, what: str) -> list[yaml.Node]:
        if not isinstance(node, yaml.SequenceNode):
            raise self.fail(node, f"{what} must be a list")
        return list(node.value)

    def choice(self, node: yaml.Node, what: str, allowed: tuple[str, ...]) -> str:
        value = self.scalar(node, what)
        if value not in allowed:
            close = difflib.get_close_matches(value, allowed, n=1)
            hint = f"did you mean {close[0]!r}?" if close else f"one of {', '.join(allowed)}"
            raise self.fail(node, f"unknown {what} {value!r} ({hint})")
        return value
