"""The server-drawn SVG charts, read back as XML."""

import xml.etree.ElementTree as ET

from reviews.charts import HIGH, MEDIUM, SCORE, Bar, Point, risk_bars, trend_lines

SVG = "{http://www.w3.org/2000/svg}"


def parse(svg: str) -> ET.Element:
    return ET.fromstring(str(svg))


def value_labels(svg: str) -> dict[float, dict[str, tuple[str, float]]]:
    """The trend chart's value labels: {x: {"high" or "medium": (text, y)}}."""
    series = {HIGH: "high", MEDIUM: "medium"}
    labels: dict[float, dict[str, tuple[str, float]]] = {}
    for text in parse(svg).iter(f"{SVG}text"):
        if text.get("font-size") == "11" and text.get("fill") in series:
            labels.setdefault(float(text.get("x")), {})[series[text.get("fill")]] = (
                text.text,
                float(text.get("y")),
            )
    return labels


def bar_labels(svg: str) -> list[list[str]]:
    """The bar chart's row labels, each as its lines."""
    return [
        [span.text for span in text.iter(f"{SVG}tspan")] or [text.text]
        for text in parse(svg).iter(f"{SVG}text")
        if text.get("text-anchor") == "end"
    ]


def test_equal_values_at_one_point_keep_both_labels_readable():
    points = [Point("Jan", 3, 3), Point("Feb", 9, 9), Point("Now", 0, 0)]

    labels = value_labels(trend_lines(points))

    assert len(labels) == 3
    for at_point in labels.values():
        (high, high_y), (medium, medium_y) = at_point["high"], at_point["medium"]
        assert high == medium
        # 11 px labels: less apart than that, one prints over the other.
        assert abs(high_y - medium_y) >= 11
    # The medium dot, drawn last, is the smaller: the high dot shows around it.
    radius = {
        c.get("fill"): float(c.get("r")) for c in parse(trend_lines(points)).iter(f"{SVG}circle")
    }
    assert radius[MEDIUM] < radius[HIGH]


def test_close_values_at_one_point_keep_their_labels_apart():
    # On a scale up to 40, 5 and 4 (or 38 and 40) are a few pixels apart.
    points = [Point("Jan", 5, 4), Point("Feb", 38, 40), Point("Mar", 40, 20), Point("Now", 1, 0)]

    labels = value_labels(trend_lines(points))

    for at_point in labels.values():
        assert abs(at_point["high"][1] - at_point["medium"][1]) >= 11
    jan, feb = sorted(labels)[:2]
    # The higher value keeps its label above, the lower one goes below its point.
    assert labels[jan]["high"][1] < labels[jan]["medium"][1]
    assert labels[feb]["medium"][1] < labels[feb]["high"][1]


def test_values_far_apart_are_labelled_above_their_points():
    labels = value_labels(trend_lines([Point("Jan", 40, 0), Point("Now", 40, 0)]))

    dots = {
        (float(c.get("cx")), c.get("fill")): float(c.get("cy"))
        for c in parse(trend_lines([Point("Jan", 40, 0), Point("Now", 40, 0)])).iter(f"{SVG}circle")
    }
    for x, at_point in labels.items():
        assert at_point["high"][1] < dots[(x, HIGH)]
        assert at_point["medium"][1] < dots[(x, MEDIUM)]


def test_long_bar_labels_wrap_in_full_instead_of_being_cut():
    label = "Well-Architected Framework: Operational Excellence"

    [lines] = bar_labels(risk_bars([Bar(label, 2, 1)]))

    assert len(lines) == 2
    assert " ".join(lines) == label
    assert "…" not in "".join(lines)


def test_short_labels_stay_on_one_line():
    labels = bar_labels(risk_bars([Bar("Security", 1, 0), Bar("Cost Optimization", 0, 1)]))

    assert labels == [["Security"], ["Cost Optimization"]]


def test_a_label_longer_than_three_lines_ends_with_an_ellipsis():
    label = " ".join(["workload"] * 30)

    [lines] = bar_labels(risk_bars([Bar(label, 1, 1)]))

    assert len(lines) == 3
    assert lines[-1].endswith("…")


def test_rows_with_wrapped_labels_do_not_overlap():
    svg = risk_bars([Bar("A label long enough to need two lines or more", 3, 0), Bar("Next", 1, 0)])

    bars = [
        (float(rect.get("y")), float(rect.get("height")))
        for rect in parse(svg).iter(f"{SVG}rect")
        if rect.get("height") == "20"
    ]
    (first_y, height), (second_y, _) = bars
    assert second_y >= first_y + height + 10
    assert float(parse(svg).get("viewBox").split()[3]) >= second_y + height


def test_chart_labels_are_escaped():
    svg = str(risk_bars([Bar("<script>alert(1)</script>", 1, 0)], title="<b>t</b>"))

    assert "<script>" not in svg and "<b>" not in svg
    [label] = [t for t in parse(svg).iter(f"{SVG}text") if t.get("text-anchor") == "end"]
    assert "".join(label.itertext()) == "<script>alert(1)</script>"


def score_labels(svg: str) -> list[tuple[str, float, float]]:
    """The score's value labels as (text, x, y)."""
    return [
        (t.text, float(t.get("x")), float(t.get("y")))
        for t in parse(svg).iter(f"{SVG}text")
        if t.get("fill") == SCORE and t.get("font-size") == "11"
    ]


def test_a_trend_without_scores_draws_no_score_axis():
    svg = trend_lines([Point("M1", 3, 1), Point("Now", 1, 0)])

    texts = [t.text for t in parse(svg).iter(f"{SVG}text")]
    assert "Score (right axis, %)" not in texts and "100%" not in texts


def test_the_score_has_its_own_axis_and_a_label_per_point_that_has_one():
    points = [Point("M1", 3, 1, 40.0), Point("M2", 2, 1, None), Point("Now", 1, 0, 62.5)]

    svg = trend_lines(points)

    texts = [t.text for t in parse(svg).iter(f"{SVG}text")]
    assert "Score (right axis, %)" in texts
    assert {"0%", "50%", "100%"} <= set(texts)
    assert [text for text, _, _ in score_labels(svg)] == ["40%", "63%"]


def test_a_score_label_goes_above_its_point_when_a_count_is_just_below_it():
    # 10 high of at most 20 sits at mid height, its dot and label just under a score of 61%.
    points = [Point("M1", 20, 0, 10.0), Point("M2", 10, 0, 61.0), Point("Now", 0, 0, 90.0)]

    svg = trend_lines(points)

    squares = {
        float(r.get("x")) + 4: float(r.get("y")) + 4
        for r in parse(svg).iter(f"{SVG}rect")
        if r.get("fill") == SCORE and r.get("width") == "8"
    }
    [(_, x, label_y)] = [label for label in score_labels(svg) if label[0] == "61%"]
    assert label_y < squares[x]  # above its square
    [(_, _, low_y)] = [label for label in score_labels(svg) if label[0] == "90%"]
    [(_, x90, _)] = [label for label in score_labels(svg) if label[0] == "90%"]
    assert low_y > squares[x90]  # nothing in the way: below, as usual
