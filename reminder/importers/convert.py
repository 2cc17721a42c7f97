"""Old Word files (.doc and WPS's .wps, Works .wps, RTF) through LibreOffice: converted to
.docx in a temporary folder, then read by the .docx reader.

No pure-Python library reads the Word 97 binary format's tables with their merged cells;
LibreOffice does, and Debian ships it headless (libreoffice-writer-nogui). Each conversion runs
in its own process group with its own throwaway profile (two imports at once never share
one), a time limit after which the whole group is killed, an address-space limit, and no
network: a new network namespace where the system allows one, and in any case a profile that
blocks linked content and points every proxy at a closed local port.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import resource
import shutil
import signal
import subprocess
import tempfile
from pathlib import Path

from reminder.errors import ImportFailed
from reminder.importers.safety import check_zip
from reminder.importers.table import Grid

TIMEOUT = 100.0  # seconds, under the reading child's 120 s of silence (safety.WALL_SECONDS)
MEMORY = 3 * 1024**3  # address space; soffice maps ~1 GB before reading anything
PACKAGE = "libreoffice-writer-nogui"
_SUFFIX = {"doc": ".doc", "works": ".wps", "rtf": ".rtf"}
_CLONE_NEWNET = 0x40000000

# The profile's settings: manual proxies at a port nothing listens on, linked content blocked.
_SETTINGS = (
    ("/org.openoffice.Inet/Settings", "ooInetProxyType", "2"),
    ("/org.openoffice.Inet/Settings", "ooInetHTTPProxyName", "127.0.0.1"),
    ("/org.openoffice.Inet/Settings", "ooInetHTTPProxyPort", "9"),
    ("/org.openoffice.Inet/Settings", "ooInetHTTPSProxyName", "127.0.0.1"),
    ("/org.openoffice.Inet/Settings", "ooInetHTTPSProxyPort", "9"),
    ("/org.openoffice.Inet/Settings", "ooInetNoProxy", ""),
    ("/org.openoffice.Office.Common/Security/Scripting", "BlockUntrustedRefererLinks", "true"),
    ("/org.openoffice.Office.Common/Security/Scripting", "MacroSecurityLevel", "3"),
    ("/org.openoffice.Office.Common/Misc", "UseOpenCL", "false"),
)
_REGISTRY = (
    '<?xml version="1.0" encoding="UTF-8"?>\n'
    '<oor:items xmlns:oor="http://openoffice.org/2001/registry" '
    'xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">\n'
    + "".join(f'<item oor:path="{path}"><prop oor:name="{name}" oor:op="fuse"><value>{value}</value>'
              "</prop></item>\n" for path, name, value in _SETTINGS)
    + "</oor:items>\n"
)


def soffice() -> str | None:
    return shutil.which("soffice") or shutil.which("libreoffice")


def _isolate() -> None:
    """In the child before exec: its own network namespace when allowed (root, or user
    namespaces), and a cap on its address space."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.unshare(_CLONE_NEWNET)  # fails quietly without the right: the proxy block remains
    except (OSError, AttributeError):
        pass
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY, MEMORY))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def to_docx(path: Path, data: bytes, kind: str, *, timeout: float | None = None) -> bytes:
    """The document converted to .docx by LibreOffice; ImportFailed (exit 2) when LibreOffice
    is missing, fails, or takes longer than the limit."""
    binary = soffice()
    if binary is None:
        raise ImportFailed(f"读取 {path.suffix or '此类'} 文件需要 LibreOffice，本机没有安装", file=path,
                           hint=f"请安装 Debian 软件包 {PACKAGE}：apt-get install {PACKAGE}；"
                                "或用 Word/WPS 另存为 .docx 后导入")
    limit = TIMEOUT if timeout is None else timeout
    with tempfile.TemporaryDirectory(prefix="reminder-soffice-") as tmp:
        work = Path(tmp)
        profile = work / "profile"
        (profile / "user").mkdir(parents=True)
        (profile / "user" / "registrymodifications.xcu").write_text(_REGISTRY, encoding="utf-8")
        source = work / f"in{_SUFFIX.get(kind, '.doc')}"  # an ASCII name: no locale surprises
        source.write_bytes(data)
        out = work / "out"
        command = [
            binary, "--headless", "--invisible", "--norestore", "--nolockcheck", "--nodefault",
            "--nologo", f"-env:UserInstallation={profile.as_uri()}",
            "--convert-to", "docx:MS Word 2007 XML", "--outdir", str(out), str(source),
        ]
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(work), "LANG": "C.UTF-8",
               "TMPDIR": str(work), "SAL_USE_VCLPLUGIN": "svp"}
        process = subprocess.Popen(
            command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            env=env, cwd=work, start_new_session=True, preexec_fn=_isolate,
        )
        try:
            output, _ = process.communicate(timeout=limit)
        except subprocess.TimeoutExpired:
            _kill_group(process)
            raise ImportFailed(f"LibreOffice 转换超过 {limit:g} 秒仍未完成，已终止", file=path,
                               hint="文件可能过大或已损坏；请用 Word/WPS 另存为 .docx 后导入") from None
        finally:
            _kill_group(process)  # a helper process left behind would hold the profile
        result = out / "in.docx"
        if process.returncode != 0 or not result.is_file():
            said = " ".join(output.decode("utf-8", "replace").split())[:160]
            raise ImportFailed(
                "LibreOffice 无法转换这个文件，文件可能已损坏", file=path,
                hint=f"请用 Word/WPS 打开确认后另存为 .docx 再导入（{said or process.returncode}）")
        return result.read_bytes()


def _kill_group(process: subprocess.Popen) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait()


class WordImporter:
    name = "旧版 Word 文档"
    suffixes = (".doc", ".wps", ".rtf")

    def read(self, path: Path, data: bytes) -> Grid:
        from reminder.importers.docx import DocxImporter
        from reminder.importers.sniff import sniff

        converted = to_docx(path, data, sniff(path, data))
        check_zip(path, converted)
        return DocxImporter().read(path, converted)
