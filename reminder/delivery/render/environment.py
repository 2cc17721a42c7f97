"""The template environment every message is rendered in, and its error boundary.

Templates are user-editable files, so they run in a ``SandboxedEnvironment`` with
``StrictUndefined`` (a misspelt variable is an error, not a silently empty string), and HTML
templates are autoescaped. A user's templates directory is searched before the shipped
``templates/``; any template problem becomes a one-line ``ConfigError`` naming file and line.
"""

from __future__ import annotations

import traceback
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path
from typing import Any, TypeVar

from jinja2 import FileSystemLoader, StrictUndefined, TemplateNotFound, TemplateSyntaxError
from jinja2.sandbox import SandboxedEnvironment

from reminder.errors import ConfigError
from reminder.plan.wording import cn_date, days_text
from reminder.resources import data_dir

T = TypeVar("T")


# WeCom markdown has no escape character, so markup characters in task text become their
# full-width forms, which read the same in Chinese text.
_MD_SAFE = str.maketrans({"<": "＜", ">": "＞", "*": "＊", "[": "［", "]": "］", "`": "｀"})


def md_safe(text: object) -> str:
    """Keep task text from acting as WeCom markdown markup: ``<@all>`` would mention the
    whole group, a stray ``<font`` would swallow the rest of the message, ``**…**`` would
    bold and ``[text](url)`` would turn into a link the office never wrote."""
    return str(text).translate(_MD_SAFE)


@lru_cache(maxsize=8)
def _environment(templates_dir: Path | None) -> SandboxedEnvironment:
    paths = [str(templates_dir)] if templates_dir is not None else []
    paths.append(str(data_dir("templates")))
    env = SandboxedEnvironment(
        loader=FileSystemLoader(paths, encoding="utf-8"),
        # By file name, so digest.html.j2 is escaped and the text/markdown ones are not.
        autoescape=lambda name: bool(name) and name.lower().endswith((".html", ".html.j2")),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(cn_date=cn_date, md=md_safe)
    env.globals.update(days_text=days_text)
    return env


def environment(templates_dir: Path | None = None) -> SandboxedEnvironment:
    if templates_dir is not None:
        templates_dir = Path(templates_dir).expanduser().resolve()
        if not templates_dir.is_dir():
            raise ConfigError("模板目录不存在", file=templates_dir,
                              hint="检查 config.toml 中的 templates 设置")
    return _environment(templates_dir)


def guarded(env: SandboxedEnvironment, name: str, action: Callable[[], T]) -> T:
    """Run template work; turn every failure of it into a ConfigError with file and line."""
    try:
        return action()
    except TemplateNotFound as exc:
        # Named by an {% include %} / {% import %} of a user template: point at that line.
        file, line = _template_frame(env, exc) or (None, None)
        raise ConfigError(f"找不到模板 {exc.name or name}", file=file, line=line,
                          hint="检查模板目录和模板名") from None
    except TemplateSyntaxError as exc:
        raise ConfigError(f"模板语法错误：{exc.message}", file=exc.filename or name,
                          line=exc.lineno) from None
    except Exception as exc:  # anything a template can raise while rendering, sandbox included
        file, line = _template_frame(env, exc) or (_source_file(env, name), None)
        raise ConfigError(f"模板渲染失败：{type(exc).__name__}: {exc}", file=file, line=line,
                          hint="检查模板中的变量名和写法") from None


def _template_frame(env: SandboxedEnvironment, exc: BaseException) -> tuple[str, int] | None:
    # Jinja rewrites tracebacks so that template frames carry the template's path and line.
    roots = tuple(getattr(env.loader, "searchpath", ()))
    frames = [f for f in traceback.extract_tb(exc.__traceback__)
              if roots and f.filename.startswith(roots)]
    return (frames[-1].filename, frames[-1].lineno or 0) if frames else None


def _source_file(env: SandboxedEnvironment, name: str) -> str:
    try:
        return env.loader.get_source(env, name)[1] or name  # type: ignore[union-attr]
    except Exception:
        return name


def render_template(env: SandboxedEnvironment, name: str, context: dict[str, Any]) -> str:
    return guarded(env, name, lambda: env.get_template(name).render(context)).strip() + "\n"
