"""Charts without JavaScript: the SVG parses, carries no script, and its bars and points are
the statistics' figures; the PNG is a real image of the chart's size."""

from __future__ import annotations

import io
from datetime import date
from xml.etree import ElementTree

from PIL import Image

from reminder.answerback.charts import Rect, Text, rate_chart, to_png, to_svg, trend_chart
from reminder.answerback.stats import PlanStats, UnitStats, rank

SVG = "{http://www.w3.org/2000/svg}"


def stats() -> PlanStats:
    units = rank([
        UnitStats(plan="p", unit="办公室", tasks=4, on_time=3, late=1),
        UnitStats(plan="p", unit="法规科<&>", tasks=2, on_time=1, overdue=1),
        UnitStats(plan="p", unit="财务科", tasks=1, pending=1),
    ])
    return PlanStats(plan="p", title="t", units=units, total=UnitStats(plan="p", unit="合计"),
                     items=[], overdue_trend=[(date(2026, 7, 31), 0), (date(2026, 8, 31), 2),
                                              (date(2026, 9, 30), 5)])


def test_rate_bars_are_proportional_and_skip_units_with_nothing_due() -> None:
    chart = rate_chart(stats())
    bars = [s for s in chart.shapes if isinstance(s, Rect)]
    assert len(bars) == 2  # 财务科 has nothing due: no bar that would read as 0 %
    assert abs(bars[1].w / bars[0].w - 0.5 / 0.75) < 1e-9
    assert bars[0].fill != bars[1].fill  # below 60 % is marked
    labels = {s.text for s in chart.shapes if isinstance(s, Text)}
    assert {"办公室", "75.0%", "50.0%"} <= labels and "财务科" not in labels


def test_svg_is_well_formed_scriptless_and_escaped() -> None:
    svg = to_svg(rate_chart(stats()))
    root = ElementTree.fromstring(svg)
    assert root.tag == f"{SVG}svg" and root.find(f"{SVG}title").text == "各单位按时完成率"
    assert not [e for e in root.iter() if e.tag.endswith("script") or "href" in str(e.attrib)]
    assert "法规科<&>" in [e.text for e in root.iter(f"{SVG}text")]
    assert "办公室 75.0%" in root.find(f"{SVG}desc").text


def test_trend_points_rise_with_the_counts() -> None:
    chart = trend_chart(stats())
    values = [s for s in chart.shapes if isinstance(s, Text) and s.fill != "#1f1f1f"]
    assert [v.text for v in values] == ["0", "2", "5"]
    assert values[0].y > values[1].y > values[2].y  # higher counts drawn higher up
    assert "9月30日 5 项" in chart.summary


def test_png_has_the_charts_size_at_twice_the_scale() -> None:
    chart = trend_chart(stats())
    image = Image.open(io.BytesIO(to_png(chart)))
    assert image.format == "PNG" and image.size == (chart.width * 2, chart.height * 2)
    assert len(image.getcolors(maxcolors=1 << 16) or ()) > 2  # something was drawn
