"""Click's own words (Usage, Options, "No such option" …) in Chinese.

Click marks them for gettext but ships no catalogue, and each of its modules binds
``gettext`` to a name ``_`` at import. Rebinding those names is the smallest way to change
the words without a compiled .mo file or a process-wide locale change.
"""

from __future__ import annotations

import importlib
from typing import Any

ZH = {
    "Usage:": "用法：",
    "Options": "选项",
    "Commands": "命令",
    "Positional arguments": "参数",
    "Show this message and exit.": "显示帮助并退出",
    "Show the version and exit.": "显示版本并退出",
    "Error: {message}": "错误：{message}",
    "Try '{command} {option}' for help.": "运行 '{command} {option}' 查看用法。",
    "No such option {name!r}.": "没有选项 {name!r}。",
    "No such command {name!r}.": "没有命令 {name!r}。",
    "Missing command.": "缺少命令。",
    "Missing argument": "缺少参数",
    "Missing option": "缺少选项",
    "Missing parameter": "缺少参数",
    "Missing parameter: {param_name}": "缺少参数：{param_name}",
    "Missing {param_type}": "缺少{param_type}",
    "argument": "参数",
    "option": "选项",
    "parameter": "参数",
    "Invalid value for {param_hint}: {message}": "{param_hint} 的值无效：{message}",
    "Invalid value: {message}": "值无效：{message}",
    "Option {name!r} does not take a value.": "选项 {name!r} 不带值。",
    "Argument {name!r} takes {nargs} values.": "参数 {name!r} 需要 {nargs} 个值。",
    "{value!r} is not a valid {number_type}.": "{value!r} 不是有效的{number_type}。",
    "integer": "整数",
    "float": "数字",
    "{value} is not in the range {range}.": "{value} 不在范围 {range} 内。",
    "{name} {filename!r} does not exist.": "{name} {filename!r} 不存在。",
    "{name} {filename!r} is a file.": "{name} {filename!r} 是文件，应为文件夹。",
    "{name} {filename!r} is a directory.": "{name} {filename!r} 是文件夹，应为文件。",
    "{name} {filename!r} is not readable.": "{name} {filename!r} 不可读。",
    "{name} {filename!r} is not writable.": "{name} {filename!r} 不可写。",
    "File": "文件",
    "Directory": "文件夹",
    "Path": "路径",
    "file": "文件",
    "directory": "文件夹",
    "path": "路径",
    "default: {default}": "默认：{default}",
    "required": "必填",
    "Aborted!": "已中止。",
    "Choose from:\n\t{choices}": "可选：\n\t{choices}",
    "Did you mean {possibility}?": "是否想用 {possibility}？",
    "(Did you mean one of: {possibilities}?)": "（是否想用其中之一：{possibilities}？）",
    "Got unexpected extra argument ({args})": "多余的参数（{args}）",
    "Got unexpected extra arguments ({args})": "多余的参数（{args}）",
    "Option {name!r} requires an argument.": "选项 {name!r} 需要一个值。",
    "Option {name!r} requires {nargs} arguments.": "选项 {name!r} 需要 {nargs} 个值。",
    "{value!r} is not {choice}.": "{value!r} 不是 {choice}。",
    "{value!r} is not one of {choices}.": "{value!r} 不在可选值 {choices} 中。",
    "{value!r} does not match the format {format}.": "{value!r} 不符合格式 {format}。",
    "{value!r} does not match the formats {formats}.": "{value!r} 不符合格式 {formats}。",
}
MODULES = ("core", "decorators", "exceptions", "formatting", "parser", "types", "termui")


def _gettext(message: str) -> str:
    return ZH.get(message, message)


def _ngettext(singular: str, plural: str, n: int) -> str:
    return ZH.get(singular if n == 1 else plural, singular if n == 1 else plural)


def _cell_wrap(wrap: Any) -> Any:
    """Click wraps help by characters, and a Chinese character takes two cells: re-cut
    every line that is still too wide, keeping its indent."""

    def wrap_text(text: str, width: int = 78, initial_indent: str = "",
                  subsequent_indent: str = "", preserve_paragraphs: bool = False) -> str:
        from rich.cells import cell_len

        lines = []
        for line in wrap(text, width, initial_indent, subsequent_indent,
                         preserve_paragraphs).splitlines():
            indent = " " * (len(line) - len(line.lstrip(" ")))
            while cell_len(line) > width and line.strip():
                cut = len(indent) + 1
                while cut < len(line) and cell_len(line[:cut + 1]) <= width:
                    cut += 1
                cut = _break_before(line, cut, len(indent) + 1)
                lines.append(line[:cut])
                line = indent + line[cut:]
            lines.append(line)
        return "\n".join(lines)

    return wrap_text


_WORD = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._/-:=@~$")
_NO_START = set("，。、；：？！）」』】]〕》,.;:!?)")  # never begins a line
_NO_END = set("（「『【[〔《(")  # never ends a line


def _break_before(line: str, cut: int, lowest: int) -> int:
    """The nearest place at or before ``cut`` where a line may break: not inside a word or
    file name (co|nfig.toml), not inside a short bracket ([必|填]), not before closing or
    after opening punctuation. ``cut`` itself when there is none."""
    return next((at for at in range(cut, lowest - 1, -1) if _may_break(line, at)), cut)


def _may_break(line: str, at: int) -> bool:
    before, after = line[at - 1], line[at] if at < len(line) else " "
    if before in _WORD and after in _WORD:
        return False
    if after in _NO_START or before in _NO_END:
        return False
    opened = line.rfind("[", 0, at)
    return not (opened > line.rfind("]", 0, at) and 0 <= line.find("]", at) - opened <= 12)


def _wide(char: str) -> bool:
    return bool(char) and "\u2e80" <= char <= "\uffef"


def _cjk_chunks(chunks: list[str]) -> list[str]:
    """textwrap breaks only at spaces: cut its chunks further wherever a line may break
    inside Chinese text (:func:`_break_before`'s rules), and drop the space a docstring's
    line break leaves between two Chinese characters (任务、 下一步)."""
    out: list[str] = []
    for at, chunk in enumerate(chunks):
        if chunk.isspace():
            following = chunks[at + 1][:1] if at + 1 < len(chunks) else ""
            if not (out and _wide(out[-1][-1]) and _wide(following)):
                out.append(chunk)
            continue
        start = 0
        for cut in range(1, len(chunk)):
            if (_wide(chunk[cut - 1]) or _wide(chunk[cut])) and _may_break(chunk, cut):
                out.append(chunk[start:cut])
                start = cut
        out.append(chunk[start:])
    return out


def _term_len(text: str) -> int:
    # Imported on first use (help and usage text only): commands that print CSV or JSON
    # never load rich.
    from rich.cells import cell_len

    return cell_len(text)


def install() -> None:
    formatting = importlib.import_module("click.formatting")
    if not getattr(formatting.wrap_text, "cell_aware", False):
        # Chinese text has no spaces, so textwrap sees one long "word" and cuts it anywhere
        # (co|nfig.toml); leave long words whole and let the cell-width pass find a break.
        textwrap = importlib.import_module("click._textwrap")
        base = textwrap.TextWrapper

        class WholeWords(base):  # type: ignore[misc, valid-type]
            def __init__(self, *args: Any, **kwargs: Any) -> None:
                super().__init__(*args, **kwargs)
                self.break_long_words = False

            def _split(self, text: str) -> list[str]:
                return _cjk_chunks(super()._split(text))

        textwrap.TextWrapper = WholeWords
        # Its widths in terminal cells, so a line of Chinese fills the line once rather
        # than being cut twice (by characters, then by cells) into a long and a short line.
        textwrap.term_len = _term_len
        formatting.wrap_text = _cell_wrap(formatting.wrap_text)
        formatting.wrap_text.cell_aware = True
        formatting.term_len = _term_len
    for name in MODULES:
        module = importlib.import_module(f"click.{name}")
        if hasattr(module, "_"):
            module._ = _gettext  # type: ignore[attr-defined]
        if hasattr(module, "ngettext"):
            module.ngettext = _ngettext  # type: ignore[attr-defined]
