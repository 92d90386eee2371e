"""Offline reading of Bicep (no Bicep CLI here): parse with tree-sitter-bicep, report syntax errors,
and evaluate the literal parts of declarations (strings, numbers, booleans, arrays, objects) so
tests can compare what the templates declare with what the code expects. Anything that is not a
literal (a reference, a call, an interpolated string) is kept as `Expr` with its source text."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any


@dataclass(frozen=True)
class Expr:
    """A non-literal expression, by its source text."""

    text: str


@dataclass
class Resource:
    symbol: str
    type: str
    body: Any  # the evaluated object (a loop's body object for `[for ...]` resources)
    looped: bool = False


@dataclass
class Template:
    params: dict[str, dict[str, Any]] = field(default_factory=dict)
    variables: dict[str, Any] = field(default_factory=dict)
    resources: list[Resource] = field(default_factory=list)
    modules: dict[str, str] = field(default_factory=dict)  # symbol -> path
    outputs: dict[str, Any] = field(default_factory=dict)

    def resources_of(self, type_prefix: str) -> list[Resource]:
        return [r for r in self.resources if r.type.split("@")[0] == type_prefix]

    def resource(self, symbol: str) -> Resource:
        """The resource declared as `symbol`."""
        [found] = [r for r in self.resources if r.symbol == symbol]
        return found

    def default(self, param: str) -> Any:
        return self.params[param]["default"]


@lru_cache(maxsize=1)
def _parser() -> Any:
    import tree_sitter
    import tree_sitter_bicep

    return tree_sitter.Parser(tree_sitter.Language(tree_sitter_bicep.language()))


def syntax_errors(source: str | bytes) -> list[str]:
    """Every ERROR or MISSING node as `line:column: what`, empty for a well-formed file."""
    data = source.encode() if isinstance(source, str) else source
    found: list[str] = []

    def visit(node: Any) -> None:
        if node.type == "ERROR" or node.is_missing:
            line, column = node.start_point
            what = f"missing {node.type}" if node.is_missing else "unexpected " + node.text.decode()[:40]
            found.append(f"{line + 1}:{column + 1}: {what}")
        for child in node.children:
            visit(child)

    visit(_parser().parse(data).root_node)
    return found


def _named(node: Any) -> list[Any]:
    return [child for child in node.children if child.is_named]


def _string(node: Any) -> str | Expr:
    parts: list[str] = []
    for child in node.children:
        if child.type == "interpolation":
            return Expr(node.text.decode())
        if child.type == "escape_sequence":
            parts.append(
                {"\\'": "'", "\\\\": "\\", "\\n": "\n", "\\t": "\t", "\\$": "$"}.get(child.text.decode(), "")
            )
        elif child.type == "string_content":
            parts.append(child.text.decode())
    return "".join(parts)


def _object(node: Any) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for prop in _named(node):
        if prop.type != "object_property":
            continue
        key_node, *rest = _named(prop)
        key = _string(key_node) if key_node.type == "string" else key_node.text.decode()
        result[key if isinstance(key, str) else key.text] = value(rest[-1]) if rest else None
    return result


_LITERALS = {
    "string": _string,
    "number": lambda node: int(node.text.decode()),
    "boolean": lambda node: node.text.decode() == "true",
    "null": lambda node: None,
    "array": lambda node: [value(item) for item in _named(node)],
    "object": _object,
    "parenthesized_expression": lambda node: value(_named(node)[0]),
}


def value(node: Any) -> Any:
    """The literal a node denotes, or Expr for anything computed."""
    literal = _LITERALS.get(node.type)
    return literal(node) if literal else Expr(node.text.decode())


def read(source: str | bytes) -> Template:
    data = source.encode() if isinstance(source, str) else source
    template = Template()
    for node in _parser().parse(data).root_node.children:
        named = _named(node)
        if node.type == "parameter_declaration":
            ids = [n for n in named if n.type == "identifier"]
            rest = [n for n in named if n.type not in ("identifier", "type", "decorators")]
            template.params[ids[0].text.decode()] = {
                "default": value(rest[-1]) if rest else Expr("<required>")
            }
            template.params[ids[0].text.decode()]["required"] = not rest
        elif node.type == "variable_declaration":
            template.variables[named[0].text.decode()] = value(named[-1])
        elif node.type == "resource_declaration":
            symbol, type_node, body = named[0], named[1], named[-1]
            looped = body.type == "for_statement"
            if looped:
                body = _named(body)[-1]
            if body.type == "if_statement":
                body = _named(body)[-1]
            template.resources.append(Resource(symbol.text.decode(), _string(type_node), value(body), looped))
            for child in _named(named[-1]) if named[-1].type == "object" else []:
                if child.type == "resource_declaration":  # nested child resources
                    inner = _named(child)
                    template.resources.append(
                        Resource(inner[0].text.decode(), _string(inner[1]), value(inner[-1]))
                    )
        elif node.type == "module_declaration":
            template.modules[named[0].text.decode()] = _string(named[1])
        elif node.type == "output_declaration":
            template.outputs[named[0].text.decode()] = value(named[-1])
    return template
