import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lenses.conditions import (
    MAX_DEPTH,
    ConditionError,
    choice_ids,
    describe,
    evaluate,
    parse,
)


def c(choice_id):
    return ["choice", choice_id]


# --- parsing real shapes -------------------------------------------------


def test_it_parses_default_alone():
    assert parse("default") == ["default"]


def test_it_parses_a_single_choice_id():
    assert parse("sec_3_bp9") == c("sec_3_bp9")


def test_it_accepts_letters_digits_underscores_and_hyphens_in_ids():
    assert parse("SAP_OPS1-bp1 && 42") == ["and", c("SAP_OPS1-bp1"), c("42")]


def test_it_parses_a_chain_of_negated_choices():
    assert parse("!SAP_OPS1_bp1 || !SAP_OPS1_bp2 || !SAP_OPS1_bp3") == [
        "or",
        ["not", c("SAP_OPS1_bp1")],
        ["not", c("SAP_OPS1_bp2")],
        ["not", c("SAP_OPS1_bp3")],
    ]


def test_it_parses_a_group_or_a_negation():
    assert parse("(choice1 && choice2) || !choice3") == [
        "or",
        ["and", c("choice1"), c("choice2")],
        ["not", c("choice3")],
    ]


def test_it_does_not_wrap_single_element_groups():
    assert parse("((a))") == c("a")
    assert parse("!(a)") == ["not", c("a")]


def test_it_keeps_double_negation():
    assert parse("!!a") == ["not", ["not", c("a")]]


def test_it_produces_plain_json_data():
    tree = parse("(a && !b) || c")
    assert json.loads(json.dumps(tree)) == tree
    assert evaluate(json.loads(json.dumps(tree)), {"c"}) is True


# --- precedence and associativity -----------------------------------------
# Each case comes with a selection on which the wrong reading gives the other
# answer, so a parser that got precedence wrong fails here, not just on shape.


def test_it_gives_and_precedence_over_or():
    assert parse("a || b && c") == parse("a || (b && c)") == ["or", c("a"), ["and", c("b"), c("c")]]
    # (a || b) && c would be false here
    assert evaluate(parse("a || b && c"), {"a"}) is True


def test_it_gives_and_precedence_over_or_when_and_comes_first():
    assert parse("a && b || c") == ["or", ["and", c("a"), c("b")], c("c")]
    # a && (b || c) would be false here
    assert evaluate(parse("a && b || c"), {"c"}) is True


def test_it_gives_not_precedence_over_and():
    assert parse("!a && b") == parse("(!a) && b") == ["and", ["not", c("a")], c("b")]
    # !(a && b) would be true here
    assert evaluate(parse("!a && b"), {"a"}) is False


def test_it_gives_not_precedence_over_or():
    assert parse("!a || b") == ["or", ["not", c("a")], c("b")]
    # !(a || b) would be false here
    assert evaluate(parse("!a || b"), set()) is True


def test_it_lets_parentheses_override_precedence():
    assert parse("(a || b) && c") == ["and", ["or", c("a"), c("b")], c("c")]
    assert evaluate(parse("(a || b) && c"), {"a"}) is False
    assert parse("!(a && b)") == ["not", ["and", c("a"), c("b")]]
    assert evaluate(parse("!(a && b)"), {"a"}) is True


def test_it_flattens_left_associative_chains():
    assert parse("a && b && c") == ["and", c("a"), c("b"), c("c")]
    assert parse("a || b || c || d") == ["or", c("a"), c("b"), c("c"), c("d")]


def test_it_flattens_parenthesised_groups_of_the_same_operator():
    assert parse("(a && b) && c") == parse("a && (b && c)") == ["and", c("a"), c("b"), c("c")]


def test_it_does_not_flatten_across_different_operators():
    assert parse("a && b || c && d") == [
        "or",
        ["and", c("a"), c("b")],
        ["and", c("c"), c("d")],
    ]


# --- whitespace ------------------------------------------------------------


def test_it_ignores_whitespace_including_crlf_and_tabs():
    expected = ["or", ["and", c("a"), c("b")], ["not", c("c")]]
    assert parse("(a&&b)||!c") == expected
    assert parse("\r\n\t( a\t&&\r\nb )  ||\n!  c \r\n") == expected


def test_it_accepts_default_surrounded_by_whitespace():
    assert parse("\r\n  default\t\r\n") == ["default"]


# --- errors ----------------------------------------------------------------


ALONE = " ('default' must be the whole condition)"


@pytest.mark.parametrize(
    ("text", "message", "position"),
    [
        ("", "empty condition", 0),
        ("   ", "empty condition", 0),
        ("\r\n\t", "empty condition", 0),
        ("a &&", "unexpected end of condition", 4),
        ("a || ", "unexpected end of condition", 5),
        ("!", "unexpected end of condition", 1),
        ("&& a", "expected a choice id at position 0", 0),
        ("a && || b", "expected a choice id at position 5", 5),
        ("()", "expected a choice id at position 1", 1),
        ("(a || b", "unclosed '(' at position 0", 0),
        ("a && ((b)", "unclosed '(' at position 5", 5),
        ("a || b)", "unexpected ')' at position 6", 6),
        ("a b", "unexpected 'b' at position 2", 2),
        ("a (b)", "unexpected '(' at position 2", 2),
        ("a !b", "unexpected '!' at position 2", 2),
        ("a & b", "unexpected '&' at position 2 (use '&&')", 2),
        ("a | b", "unexpected '|' at position 2 (use '||')", 2),
        ("a + b", "unexpected '+' at position 2", 2),
        ("a && é", "unexpected 'é' at position 5", 5),
        ("a.b", "unexpected '.' at position 1", 1),
        ("default && a", "unexpected 'default' at position 0" + ALONE, 0),
        ("a && default", "unexpected 'default' at position 5" + ALONE, 5),
        ("!default", "unexpected 'default' at position 1" + ALONE, 1),
        ("(default)", "unexpected 'default' at position 1" + ALONE, 1),
        ("default default", "unexpected 'default' at position 0" + ALONE, 0),
    ],
)
def test_it_reports_what_is_wrong_and_where(text, message, position):
    with pytest.raises(ConditionError) as raised:
        parse(text)
    assert raised.value.message == str(raised.value) == message
    assert raised.value.position == position


def test_it_reports_the_first_problem_in_reading_order():
    with pytest.raises(ConditionError) as raised:
        parse("a b + )")
    assert raised.value.position == 2


def test_its_error_is_a_value_error():
    with pytest.raises(ValueError):
        parse("a &&")


@pytest.mark.parametrize("opening", ["(", "!", "!(", "(!"])
def test_it_refuses_pathological_nesting_without_recursion_error(opening):
    text = opening * 10_000 + "a" + ")" * (opening.count("(") * 10_000)
    with pytest.raises(ConditionError, match="nested too deeply") as raised:
        parse(text)
    assert raised.value.position < 2 * MAX_DEPTH


def test_it_refuses_ten_thousand_unclosed_parentheses():
    with pytest.raises(ConditionError, match="nested too deeply at position 100"):
        parse("(" * 10_000)


def test_it_accepts_nesting_up_to_the_limit():
    assert parse("(" * MAX_DEPTH + "a" + ")" * MAX_DEPTH) == c("a")
    deep_not = parse("!" * MAX_DEPTH + "a")
    assert evaluate(deep_not, set()) is (MAX_DEPTH % 2 == 1)
    with pytest.raises(ConditionError, match="nested too deeply"):
        parse("(" * (MAX_DEPTH + 1) + "a" + ")" * (MAX_DEPTH + 1))


def test_it_handles_long_flat_chains():
    tree = parse(" && ".join(f"c{i}" for i in range(5_000)))
    assert len(tree) == 5_001
    assert evaluate(tree, {f"c{i}" for i in range(5_000)}) is True


# --- evaluate, choice_ids, describe ------------------------------------------


def test_it_evaluates_default_as_always_true():
    assert evaluate(["default"], frozenset()) is True


def test_it_evaluates_a_choice_as_whether_it_is_selected():
    assert evaluate(parse("a"), frozenset({"a"})) is True
    assert evaluate(parse("a"), frozenset({"b"})) is False


def test_it_evaluates_the_real_shapes():
    tree = parse("(choice1 && choice2) || !choice3")
    assert evaluate(tree, {"choice1", "choice2", "choice3"}) is True
    assert evaluate(tree, {"choice1", "choice3"}) is False
    assert evaluate(tree, set()) is True


def test_it_refuses_to_evaluate_a_malformed_tree():
    with pytest.raises(ValueError, match="not a condition tree"):
        evaluate(["xor", c("a"), c("b")], set())
    with pytest.raises(ValueError, match="not a condition tree"):
        evaluate(["and", c("a")], set())


def test_it_lists_every_choice_id_mentioned():
    assert choice_ids(parse("!a || (b && !(c || a)) || d-1")) == {"a", "b", "c", "d-1"}
    assert choice_ids(["default"]) == set()


def test_it_describes_negations_joined_by_and():
    titles = {"a": "Use MFA", "b": "Rotate keys"}
    assert describe(parse("!a && !b"), titles) == "not “Use MFA” and not “Rotate keys”"


def test_it_describes_default_as_every_other_case():
    assert describe(["default"], {}) == "in every other case"


def test_it_describes_an_untitled_choice_by_its_id():
    assert describe(parse("a || sec_3_bp9"), {"a": "A"}) == "“A” or “sec_3_bp9”"


def test_it_puts_parentheses_around_or_inside_and():
    titles = {"a": "A", "b": "B", "c": "C"}
    assert describe(parse("(a || b) && c"), titles) == "(“A” or “B”) and “C”"
    assert describe(parse("a || b && c"), titles) == "“A” or “B” and “C”"


def test_it_puts_parentheses_around_a_negated_group():
    titles = {"a": "A", "b": "B"}
    assert describe(parse("!(a && b)"), titles) == "not (“A” and “B”)"
    assert describe(parse("!!a"), titles) == "not not “A”"


def test_it_describes_in_plain_text_leaving_escaping_to_the_template():
    assert describe(parse("a"), {"a": "<b>R&D</b>"}) == "“<b>R&D</b>”"


# --- properties ---------------------------------------------------------------

IDS = ["a", "b", "c", "d"]
LEAVES = st.sampled_from(IDS).map(c)
SPACES = st.sampled_from(["", " ", "  ", "\t", "\n", "\r\n"])
SELECTIONS = st.sets(st.sampled_from(IDS))
PROPERTY = settings(deadline=None)


def trees(depth):
    if depth == 0:
        return LEAVES
    smaller = trees(depth - 1)
    return st.one_of(
        LEAVES,
        smaller.map(lambda tree: ["not", tree]),
        st.builds(
            lambda operator, operands: [operator, *operands],
            st.sampled_from(["and", "or"]),
            st.lists(smaller, min_size=2, max_size=3),
        ),
    )


TREES = trees(4)


def reference(tree, selected):
    operator, *operands = tree
    if operator == "choice":
        return operands[0] in selected
    if operator == "not":
        return not reference(operands[0], selected)
    results = [reference(operand, selected) for operand in operands]
    return all(results) if operator == "and" else any(results)


def render_bracketed(tree, draw):
    """Parenthesise every compound sub-expression, add redundant parentheses
    and random whitespace; correct whatever the parser's precedence is."""

    def pad():
        return draw(SPACES)

    def wrap(text, needed):
        for _ in range(int(needed) + draw(st.integers(0, 2))):
            text = "(" + pad() + text + pad() + ")"
        return text

    def render(node):
        operator, *operands = node
        if operator == "choice":
            return operands[0]
        if operator == "not":
            inner = operands[0]
            return "!" + pad() + wrap(render(inner), inner[0] != "choice")
        joiner = pad() + ("&&" if operator == "and" else "||") + pad()
        return joiner.join(wrap(render(operand), operand[0] != "choice") for operand in operands)

    return pad() + wrap(render(tree), False) + pad()


PRECEDENCE = {"or": 1, "and": 2, "not": 3, "choice": 4}


def render_minimal(tree):
    """Only the parentheses that precedence requires."""
    operator, *operands = tree

    def operand_text(operand):
        text = render_minimal(operand)
        return f"({text})" if PRECEDENCE[operand[0]] < PRECEDENCE[operator] else text

    if operator == "choice":
        return operands[0]
    if operator == "not":
        return "!" + operand_text(operands[0])
    return (" && " if operator == "and" else " || ").join(operand_text(o) for o in operands)


def flattened(tree):
    operator, *operands = tree
    if operator == "choice":
        return tree
    flat = []
    for operand in map(flattened, operands):
        flat.extend(operand[1:] if operator != "not" and operand[0] == operator else [operand])
    return [operator, *flat]


@PROPERTY
@given(tree=TREES, selections=st.lists(SELECTIONS, min_size=1, max_size=8), data=st.data())
def test_it_evaluates_any_bracketed_rendering_like_the_original_tree(tree, selections, data):
    text = render_bracketed(tree, data.draw)
    parsed = parse(text)
    for selected in selections:
        assert evaluate(parsed, frozenset(selected)) == reference(tree, selected), text


@PROPERTY
@given(tree=TREES)
def test_it_round_trips_the_minimal_rendering_to_an_equivalent_tree(tree):
    text = render_minimal(tree)
    assert parse(text) == flattened(tree), text
    for mask in range(2 ** len(IDS)):
        selected = {choice for bit, choice in enumerate(IDS) if mask >> bit & 1}
        assert evaluate(parse(text), selected) == reference(tree, selected), text


@PROPERTY
@given(tree=TREES)
def test_it_finds_exactly_the_ids_of_the_original_tree(tree):
    def mentioned(node):
        return {node[1]} if node[0] == "choice" else set().union(*map(mentioned, node[1:]))

    assert choice_ids(parse(render_minimal(tree))) == mentioned(tree)


def check_parse_outcome(text):
    try:
        tree = parse(text)
    except ConditionError as error:
        assert 0 <= error.position <= len(text)
        assert str(error) == error.message
        return
    assert json.loads(json.dumps(tree)) == tree
    assert isinstance(evaluate(tree, set(IDS)), bool)
    assert isinstance(describe(tree, {}), str)


TOKEN_SOUP = st.lists(
    st.sampled_from(["a", "b", "(", ")", "!", "&&", "||", "&", " ", "default"])
).map("".join)


@PROPERTY
@given(TOKEN_SOUP)
def test_it_raises_only_condition_error_on_token_soup(text):
    check_parse_outcome(text)


@PROPERTY
@given(st.text())
def test_it_raises_only_condition_error_on_arbitrary_text(text):
    check_parse_outcome(text)
