"""Charts without JavaScript: on-time rate per unit (bars) and overdue items over time (a
line), laid out once as shapes and drawn either as SVG (pages: inline, no script, no CDN) or
as PNG with Pillow (the 通报: Word and python-docx take raster images, not SVG).

Why not a charting library: matplotlib brings numpy and a font cache and takes a second to
import; pygal's SVG loads its tooltips script from a CDN unless told not to and still needs
cairo for PNG. Two chart kinds need a few rectangles, lines and labels, which one layout can
hand to both writers, so the page and the report show the same picture.
"""

from __future__ import annotations

import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

from reminder.answerback.stats import PlanStats

INK, GRID, BAR, LOW, LINE = "#1f1f1f", "#c8c8c8", "#2f6db5", "#c0392b", "#c0392b"
WIDTH = 640
FONT_SIZE = 13


@dataclass(frozen=True)
class Rect:
    x: float
    y: float
    w: float
    h: float
    fill: str


@dataclass(frozen=True)
class Line:
    points: tuple[tuple[float, float], ...]
    stroke: str
    width: float = 1.0


@dataclass(frozen=True)
class Text:
    x: float
    y: float  # the baseline
    text: str
    anchor: str = "start"  # start | middle | end
    size: int = FONT_SIZE
    fill: str = INK


Shape = Rect | Line | Text


@dataclass(frozen=True)
class Chart:
    title: str
    width: int
    height: int
    shapes: tuple[Shape, ...]
    summary: str  # the figures in words: the page's alt text and the caption's fallback


def rate_chart(stats: PlanStats) -> Chart:
    """One bar per ranked unit, its on-time rate to 100 %; below 60 % in red. Units with
    nothing due yet are left out: a missing bar would read as 0 %."""
    rows = [u for u in stats.units if u.rate is not None]
    label_w, top, bar_h, gap = 120, 36, 22, 10
    plot_w = WIDTH - label_w - 70
    height = top + len(rows) * (bar_h + gap) + 30
    shapes: list[Shape] = [Text(WIDTH / 2, 22, "各单位按时完成率", "middle", FONT_SIZE + 2)]
    for tick in (0, 25, 50, 75, 100):
        x = label_w + plot_w * tick / 100
        shapes.append(Line(((x, top - 6), (x, height - 24)), GRID))
        shapes.append(Text(x, height - 8, f"{tick}%", "middle", FONT_SIZE - 2))
    for i, unit in enumerate(rows):
        y = top + i * (bar_h + gap)
        rate = unit.rate or 0.0
        shapes.append(Text(label_w - 8, y + bar_h * 0.72, unit.unit, "end"))
        if rate > 0:
            shapes.append(Rect(label_w, y, plot_w * rate, bar_h, BAR if rate >= 0.6 else LOW))
        shapes.append(Text(label_w + plot_w * rate + 6, y + bar_h * 0.72, unit.rate_text))
    summary = "；".join(f"{u.unit} {u.rate_text}" for u in rows) or "本期没有已到期的任务"
    return Chart("各单位按时完成率", WIDTH, height, tuple(shapes), summary)


def trend_chart(stats: PlanStats) -> Chart:
    """Overdue items at each point of the period, as a line with its values written on."""
    points = stats.overdue_trend
    left, top, bottom, right = 50, 36, 40, 30
    height = 260
    plot_w, plot_h = WIDTH - left - right, height - top - bottom
    peak = max([n for _, n in points] + [1])
    step = max(1, -(-peak // 4))  # about four grid lines, whole numbers
    ceiling = step * -(-peak // step)
    shapes: list[Shape] = [Text(WIDTH / 2, 22, "逾期事项数变化", "middle", FONT_SIZE + 2)]
    for value in range(0, ceiling + 1, step):
        y = top + plot_h * (1 - value / ceiling)
        shapes.append(Line(((left, y), (WIDTH - right, y)), GRID))
        shapes.append(Text(left - 8, y + 4, str(value), "end", FONT_SIZE - 2))
    xy: list[tuple[float, float]] = []
    for i, (day, count) in enumerate(points):
        # Inset from the axes so the first and last dates are not cut at the edges.
        x = left + 30 + ((plot_w - 60) * i / (len(points) - 1) if len(points) > 1
                         else (plot_w - 60) / 2)
        y = top + plot_h * (1 - count / ceiling)
        xy.append((x, y))
        shapes.append(Text(x, height - bottom + 18, _day(day), "middle", FONT_SIZE - 2))
        shapes.append(Text(x, y - 8, str(count), "middle", FONT_SIZE - 1, LINE))
    if len(xy) > 1:
        shapes.append(Line(tuple(xy), LINE, 2.5))
    shapes.extend(Rect(x - 3.5, y - 3.5, 7, 7, LINE) for x, y in xy)
    summary = "；".join(f"{_day(d)} {n} 项" for d, n in points) or "本期尚无数据"
    return Chart("逾期事项数变化", WIDTH, height, tuple(shapes), summary)


def _day(day: date) -> str:
    return f"{day.month}月{day.day}日"


def to_svg(chart: Chart) -> str:
    """A standalone SVG with a <title> and <desc> (screen readers), and no script."""
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{chart.width}" '
             f'height="{chart.height}" viewBox="0 0 {chart.width} {chart.height}" role="img" '
             f'font-family="sans-serif" font-size="{FONT_SIZE}">',
             f"<title>{escape(chart.title)}</title><desc>{escape(chart.summary)}</desc>",
             f'<rect width="{chart.width}" height="{chart.height}" fill="#ffffff"/>']
    for shape in chart.shapes:
        if isinstance(shape, Rect):
            parts.append(f'<rect x="{shape.x:.1f}" y="{shape.y:.1f}" width="{shape.w:.1f}" '
                         f'height="{shape.h:.1f}" fill="{shape.fill}"/>')
        elif isinstance(shape, Line):
            points = " ".join(f"{x:.1f},{y:.1f}" for x, y in shape.points)
            parts.append(f'<polyline points="{points}" fill="none" stroke="{shape.stroke}" '
                         f'stroke-width="{shape.width}"/>')
        else:
            parts.append(f'<text x="{shape.x:.1f}" y="{shape.y:.1f}" text-anchor={quoteattr(shape.anchor)} '
                         f'font-size="{shape.size}" fill="{shape.fill}">{escape(shape.text)}</text>')
    parts.append("</svg>")
    return "\n".join(parts)


@lru_cache(maxsize=1)
def cjk_font() -> str | None:
    """A font file with Chinese glyphs: what fontconfig picks for zh-cn, else None (labels
    would be drawn as boxes; the caption below the chart still gives the figures)."""
    try:
        found = subprocess.run(["fc-match", "-f", "%{file}", "sans-serif:lang=zh-cn"],
                               capture_output=True, text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        found = ""
    candidates = [found, "C:/Windows/Fonts/simhei.ttf", "C:/Windows/Fonts/msyh.ttc"]
    return next((c for c in candidates if c and Path(c).is_file()), None)


def to_png(chart: Chart, *, scale: int = 2) -> bytes:
    """The chart drawn by Pillow at ``scale`` times its size (sharp in print)."""
    import io

    from PIL import Image, ImageDraw, ImageFont

    image = Image.new("RGB", (chart.width * scale, chart.height * scale), "#ffffff")
    draw = ImageDraw.Draw(image)
    path = cjk_font()
    fonts: dict[int, ImageFont.FreeTypeFont | ImageFont.ImageFont] = {}

    def font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
        if size not in fonts:
            fonts[size] = (ImageFont.truetype(path, size * scale) if path
                           else ImageFont.load_default(size * scale))
        return fonts[size]

    for shape in chart.shapes:
        if isinstance(shape, Rect):
            draw.rectangle([shape.x * scale, shape.y * scale, (shape.x + shape.w) * scale,
                            (shape.y + shape.h) * scale], fill=shape.fill)
        elif isinstance(shape, Line):
            draw.line([(x * scale, y * scale) for x, y in shape.points], fill=shape.stroke,
                      width=max(1, round(shape.width * scale)), joint="curve")
        else:
            anchor = {"start": "ls", "middle": "ms", "end": "rs"}[shape.anchor]
            draw.text((shape.x * scale, shape.y * scale), shape.text, fill=shape.fill,
                      font=font(shape.size), anchor=anchor)
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()


def charts(stats: PlanStats) -> Sequence[Chart]:
    return (rate_chart(stats), trend_chart(stats))
