"""The condition language of risk rules in custom lenses.

A condition is either the word ``default`` or a Boolean expression over choice
ids, e.g. ``(choice1 && choice2) || !choice3``. It is parsed once, when the lens
is imported, into a tree of plain lists (stored in a JSONField) and evaluated
against the selected choices later. Nothing is ever passed to eval.

Tree shapes::

    ["default"]
    ["choice", "sec_3_bp9"]
    ["not", T]
    ["and", T, T, ...]    # two or more operands
    ["or", T, T, ...]
"""

from __future__ import annotations

import re

Tree = list

# Ten thousand "(" would otherwise exhaust the Python stack, here or when the
# stored tree is walked later; real conditions nest two or three levels.
MAX_DEPTH = 100

_ID = re.compile(r"[A-Za-z0-9_-]+")
# Every character is whitespace or part of a token; "\S" catches stray ones.
_TOKENS = re.compile(r"[A-Za-z0-9_-]+|&&|\|\||\S")
_HINTS = {
    "&": " (use '&&')",
    "|": " (use '||')",
    "default": " ('default' must be the whole condition)",
}


class ConditionError(ValueError):
    """A condition that cannot be parsed.

    ``message`` is the whole readable text (same as ``str(error)``);
    ``position`` is the 0-based character offset of the problem in the text.
    """

    def __init__(self, message: str, position: int) -> None:
        super().__init__(message)
        self.message = message
        self.position = position


def parse(text: str) -> Tree:
    """Parse a condition into a tree; raise ConditionError if it is malformed.

    Chains are flattened (``a && b && c`` and ``(a && b) && c`` both give
    ``["and", a, b, c]``) and parentheses leave no trace in the tree.
    """
    parser = _Parser(text)
    if not parser.tokens:
        raise ConditionError("empty condition", 0)
    if [token for token, _ in parser.tokens] == ["default"]:
        return ["default"]
    tree = parser.disjunction(depth=0)
    if parser.peek() is not None:
        raise parser.unexpected()
    return tree


def evaluate(tree: Tree, selected: frozenset[str] | set[str]) -> bool:
    match tree:
        case ["default"]:
            return True
        case ["choice", str(choice_id)]:
            return choice_id in selected
        case ["not", operand]:
            return not evaluate(operand, selected)
        case ["and", _, _, *_]:
            return all(evaluate(operand, selected) for operand in tree[1:])
        case ["or", _, _, *_]:
            return any(evaluate(operand, selected) for operand in tree[1:])
    raise _malformed(tree)


def choice_ids(tree: Tree) -> set[str]:
    match tree:
        case ["default"]:
            return set()
        case ["choice", str(choice_id)]:
            return {choice_id}
        case ["not", operand]:
            return choice_ids(operand)
        case ["and" | "or", _, _, *_]:
            return set().union(*(choice_ids(operand) for operand in tree[1:]))
    raise _malformed(tree)


def describe(tree: Tree, titles: dict[str, str]) -> str:
    """Plain-text reading of a condition, e.g. ``not “Use MFA” and not “Rotate keys”``."""
    match tree:
        case ["default"]:
            return "in every other case"
        case ["choice", str(choice_id)]:
            return f"“{titles.get(choice_id) or choice_id}”"
        case ["not", operand]:
            return "not " + _describe_grouped(operand, titles, {"and", "or"})
        case ["and", _, _, *_]:
            return " and ".join(_describe_grouped(operand, titles, {"or"}) for operand in tree[1:])
        case ["or", _, _, *_]:
            return " or ".join(describe(operand, titles) for operand in tree[1:])
    raise _malformed(tree)


def _describe_grouped(tree: Tree, titles: dict[str, str], looser: set[str]) -> str:
    text = describe(tree, titles)
    return f"({text})" if tree[0] in looser else text


def _malformed(tree: object) -> ValueError:
    return ValueError(f"not a condition tree: {tree!r}")


def _join(operator: str, operands: list[Tree]) -> Tree:
    if len(operands) == 1:
        return operands[0]
    flat: list[Tree] = []
    for operand in operands:
        flat.extend(operand[1:] if operand[0] == operator else [operand])
    return [operator, *flat]


class _Parser:
    """Recursive descent: disjunction -> conjunction -> unary (! and groups)."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = [(match.group(), match.start()) for match in _TOKENS.finditer(text)]
        self.index = 0

    def peek(self) -> str | None:
        return self.tokens[self.index][0] if self.index < len(self.tokens) else None

    def position(self) -> int:
        return self.tokens[self.index][1] if self.index < len(self.tokens) else len(self.text)

    def disjunction(self, depth: int) -> Tree:
        operands = [self.conjunction(depth)]
        while self.peek() == "||":
            self.index += 1
            operands.append(self.conjunction(depth))
        return _join("or", operands)

    def conjunction(self, depth: int) -> Tree:
        operands = [self.unary(depth)]
        while self.peek() == "&&":
            self.index += 1
            operands.append(self.unary(depth))
        return _join("and", operands)

    def unary(self, depth: int) -> Tree:
        token, position = self.peek(), self.position()
        if token in ("!", "("):
            if depth >= MAX_DEPTH:
                raise ConditionError(
                    f"nested too deeply at position {position} (at most {MAX_DEPTH} levels)",
                    position,
                )
            self.index += 1
            if token == "!":
                return ["not", self.unary(depth + 1)]
            inner = self.disjunction(depth + 1)
            if self.peek() is None:
                raise ConditionError(f"unclosed '(' at position {position}", position)
            if self.peek() != ")":
                raise self.unexpected()
            self.index += 1
            return inner
        if token is not None and token != "default" and _ID.fullmatch(token):
            self.index += 1
            return ["choice", token]
        if token in ("&&", "||", ")"):
            raise ConditionError(f"expected a choice id at position {position}", position)
        raise self.unexpected()

    def unexpected(self) -> ConditionError:
        token, position = self.peek(), self.position()
        if token is None:
            return ConditionError("unexpected end of condition", position)
        return ConditionError(
            f"unexpected {token!r} at position {position}{_HINTS.get(token, '')}", position
        )
