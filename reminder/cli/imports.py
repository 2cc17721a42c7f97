"""`reminder import SOURCE -o PLAN_DIR`: a plan as received → a plan folder.

Heavy readers (python-docx, openpyxl, lxml) load inside the command, so `reminder plan`
does not pay for them.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click


@click.command(
    "import", short_help="导入分工方案（Word、WPS、Excel、PDF、扫描件、网页或文本），生成或更新计划文件夹。")
@click.argument("source", type=click.Path(path_type=Path, dir_okay=False))
@click.option(
    "-o", "--output", "out_dir", type=click.Path(path_type=Path, file_okay=False), required=True,
    help="计划文件夹（不存在则新建；已存在则合并，保留 plan.toml 中的修改）",
)
@click.option("--progress/--no-progress", default=None, help="显示进度条（默认：终端中显示）")
@click.option("--accept", is_flag=True,
              help="识别结果可信度低时仍然导入（plan.toml 会记下被接受的警告）")
def import_command(source: Path, out_dir: Path, progress: bool | None, accept: bool) -> None:
    """导入分工方案（.docx .doc .wps .xlsx .xls .et .pdf 扫描件 .html .csv .md .txt），生成或更新计划文件夹。

    识别表头、合并单元格、章节、牵头与配合单位和完成时限，写出 tasks.csv 与 plan.toml。
    导入后报告识别情况；可信度低时不写入并以状态 3 退出（加 --accept 仍然导入）。
    再次导入修改后的文件时保留 plan.toml 中的联系人和覆盖项，并列出新增、删除和时限变化的任务。
    """
    from reminder.errors import ImportDoubtful
    from reminder.importers import import_document

    show = sys.stderr.isatty() if progress is None else progress
    try:
        report = import_document(source, out_dir, progress=show, accept=accept)
    except ImportDoubtful as err:
        for line in err.lines:  # the counts behind the verdict, before the one-line error
            click.echo(line)
        raise
    for line in report.lines():
        click.echo(line)


COMMANDS = [import_command]
