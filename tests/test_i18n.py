"""zh-Hans must stay complete: every string the portal can show has a Simplified Chinese translation.

When one of these tests fails after you add or change user-facing text:

    .venv/bin/python manage.py makemessages -l zh_Hans --ignore=.venv --ignore=.tools --ignore=tests --ignore=bench
    # translate every new/fuzzy entry in locale/zh_Hans/LC_MESSAGES/django.po (remove the "fuzzy" flag)
    .venv/bin/python manage.py compilemessages --ignore=.venv --ignore=.tools

and commit both django.po and django.mo.
"""

from __future__ import annotations

import ast
import gettext
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LOCALE_DIR = ROOT / "locale" / "zh_Hans" / "LC_MESSAGES"
PO_FILE = LOCALE_DIR / "django.po"
MO_FILE = LOCALE_DIR / "django.mo"
TEMPLATE_DIRS = [ROOT / "templates", *ROOT.glob("*/templates")]
# Directories that are not project source (same as the --ignore list of the makemessages command above).
NOT_SOURCE = {".venv", ".tools", ".git", "tests", "bench", "staticfiles", "media", "test-artifacts", "node_modules"}
HOW_TO_FIX = "see the docstring of tests/test_i18n.py for the makemessages/compilemessages commands"


# --------------------------------------------------------------------------------------------------- .po parsing


@dataclass
class Entry:
    msgid: str = ""
    msgid_plural: str | None = None
    msgctxt: str | None = None
    msgstr: dict[int, str] = field(default_factory=dict)
    flags: set[str] = field(default_factory=set)
    obsolete: bool = False
    line: int = 0

    @property
    def key(self) -> tuple[str | None, str]:
        return (self.msgctxt, self.msgid)

    @property
    def translated(self) -> bool:
        return bool(self.msgstr) and all(self.msgstr.values())


_UNESCAPES = {"n": "\n", "t": "\t", '"': '"', "\\": "\\", "r": "\r"}


def _unquote(text: str) -> str:
    text = text.strip()
    assert text.startswith('"'), f"bad .po string: {text!r}"
    assert text.endswith('"'), f"bad .po string: {text!r}"
    return re.sub(r"\\(.)", lambda m: _UNESCAPES.get(m.group(1), m.group(0)), text[1:-1])


def parse_po(path: Path) -> list[Entry]:
    """A small, strict .po reader (no third-party dependency). Returns entries including the header."""
    entries: list[Entry] = []
    current = Entry()
    target: tuple[str, int] | None = None
    started = False

    def flush() -> None:
        nonlocal current, started, target
        if started:
            entries.append(current)
        current, started, target = Entry(), False, None

    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        line = raw.strip()
        if not line:
            flush()
            continue
        if line.startswith("#~"):
            current.obsolete = True
            line = line[2:].strip()
            if not line or line.startswith("#"):
                continue
        elif line.startswith("#,"):
            if started and target is not None:
                flush()
            current.flags.update(f.strip() for f in line[2:].split(",") if f.strip())
            continue
        elif line.startswith("#"):
            continue
        keyword, _, rest = line.partition(" ")
        if keyword.startswith('"'):
            assert target is not None, f"{path}:{number}: continuation line without a keyword"
            name, index = target
            value = _unquote(line)
            if name == "msgstr":
                current.msgstr[index] += value
            else:
                setattr(current, name, (getattr(current, name) or "") + value)
            continue
        if keyword in {"msgctxt", "msgid"} and started and current.msgstr:
            flush()  # a new entry without a blank line in between
        if not started:
            current.line = number
        started = True
        match = re.fullmatch(r"msgstr\[(\d+)\]", keyword)
        if match:
            target = ("msgstr", int(match.group(1)))
            current.msgstr[target[1]] = _unquote(rest)
        elif keyword == "msgstr":
            target = ("msgstr", 0)
            current.msgstr[0] = _unquote(rest)
        elif keyword in {"msgid", "msgid_plural", "msgctxt"}:
            target = (keyword, 0)
            setattr(current, keyword, _unquote(rest))
        else:
            raise AssertionError(f"{path}:{number}: unknown .po keyword {keyword!r}")
    flush()
    return entries


def active_entries(path: Path) -> list[Entry]:
    return [e for e in parse_po(path) if not e.obsolete and e.msgid]


def _placeholders(text: str) -> list[str]:
    return sorted(re.findall(r"%\([a-zA-Z0-9_]+\)[sdifr]|\{[a-zA-Z0-9_]*\}", text))


# ------------------------------------------------------------------------------------------------ the catalogue


def test_po_parser_sees_real_entries() -> None:
    entries = active_entries(PO_FILE)
    by_id = {e.msgid: e for e in entries}
    assert len(entries) > 50
    assert by_id["Log in"].msgstr[0] == "登录"
    assert by_id["Welcome back, %(name)s!"].flags >= {"python-format"}


def test_header_is_final_and_names_the_language() -> None:
    header = next(e for e in parse_po(PO_FILE) if e.msgid == "" and not e.obsolete)
    assert "fuzzy" not in header.flags, "the .po header is still marked fuzzy"
    assert "Language: zh_Hans\n" in header.msgstr[0]
    assert "charset=UTF-8" in header.msgstr[0]
    assert "Plural-Forms: nplurals=1; plural=0;" in header.msgstr[0]


def test_every_entry_is_translated_and_not_fuzzy() -> None:
    problems = []
    for entry in active_entries(PO_FILE):
        if "fuzzy" in entry.flags:
            problems.append(f"line {entry.line}: fuzzy: {entry.msgid!r}")
        elif not entry.translated:
            problems.append(f"line {entry.line}: untranslated: {entry.msgid!r}")
    assert not problems, "zh-Hans is incomplete:\n  " + "\n  ".join(problems) + f"\n({HOW_TO_FIX})"


def test_translations_keep_placeholders_and_are_chinese() -> None:
    problems = []
    for entry in active_entries(PO_FILE):
        for msgstr in entry.msgstr.values():
            if _placeholders(msgstr) != _placeholders(entry.msgid):
                problems.append(f"line {entry.line}: placeholders differ: {entry.msgid!r} -> {msgstr!r}")
            if re.search(r"[A-Za-z]{3}", entry.msgid) and not re.search(r"[\u4e00-\u9fff]", msgstr):
                problems.append(f"line {entry.line}: translation has no Chinese: {entry.msgid!r} -> {msgstr!r}")
    assert not problems, "\n".join(problems)


@pytest.mark.skipif(shutil.which("msgfmt") is None, reason="GNU gettext (msgfmt) is not installed")
def test_msgfmt_check_reports_no_untranslated_or_fuzzy() -> None:
    result = subprocess.run(
        ["msgfmt", "--statistics", "--check", "-o", os.devnull, str(PO_FILE)],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "LC_ALL": "C"},
    )
    assert result.returncode == 0, result.stderr
    assert re.match(r"\d+ translated messages?\.\s*$", result.stderr), (
        f"msgfmt says: {result.stderr.strip()} ({HOW_TO_FIX})"
    )


def test_compiled_mo_matches_po() -> None:
    """The committed .mo is what runs when msgfmt is absent, so it must carry exactly the .po's translations."""
    assert MO_FILE.exists(), f"{MO_FILE} is missing ({HOW_TO_FIX})"
    with MO_FILE.open("rb") as fh:
        catalog = gettext.GNUTranslations(fh)
    stale = []
    for entry in active_entries(PO_FILE):
        if entry.msgid_plural is not None:
            for n, expected in entry.msgstr.items():
                got = (
                    catalog.npgettext(entry.msgctxt, entry.msgid, entry.msgid_plural, n)
                    if entry.msgctxt
                    else (catalog.ngettext(entry.msgid, entry.msgid_plural, n))
                )
                if got != expected:
                    stale.append(entry.msgid)
        else:
            got = catalog.pgettext(entry.msgctxt, entry.msgid) if entry.msgctxt else catalog.gettext(entry.msgid)
            if got != entry.msgstr[0]:
                stale.append(entry.msgid)
    assert not stale, f"django.mo is out of date for {stale[:10]} ({HOW_TO_FIX})"


def test_django_serves_the_translations() -> None:
    from django.utils import translation

    with translation.override("zh-hans"):
        assert translation.gettext("Create your account") == "创建账户"
    with translation.override("en"):
        assert translation.gettext("Create your account") == "Create your account"


@pytest.mark.skipif(
    shutil.which("xgettext") is None or shutil.which("msgmerge") is None, reason="GNU gettext is not installed"
)
def test_po_is_up_to_date_with_the_sources(tmp_path: Path) -> None:
    """Run makemessages on a copy of the sources: no string may be new (missing), and none may be stale."""

    def ignore(directory: str, names: list[str]) -> set[str]:
        here = Path(directory)
        return {
            n
            for n in names
            if n in NOT_SOURCE
            or n.startswith(".")
            or n == "__pycache__"
            or ((here / n).is_file() and Path(n).suffix not in {".py", ".html", ".txt", ".po"})
        }

    copy = tmp_path / "src"
    shutil.copytree(ROOT, copy, ignore=ignore)
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.test", "PYTHONPATH": str(copy), "LC_ALL": "C"}
    result = subprocess.run(
        [sys.executable, "manage.py", "makemessages", "-l", "zh_Hans", "--no-location", "--verbosity", "0"],
        cwd=copy,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    fresh = {e.key for e in active_entries(copy / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po")}
    committed = {e.key for e in active_entries(PO_FILE)}
    missing = sorted(m for _, m in fresh - committed)
    stale = sorted(m for _, m in committed - fresh)
    assert not missing, f"strings in the code but not in django.po: {missing} ({HOW_TO_FIX})"
    assert not stale, f"django.po has strings no longer in the code: {stale} ({HOW_TO_FIX})"


# ------------------------------------------------------------------------------ strings that bypass translation

# Shown as-is on purpose: each language's name in its own language (the header switcher).
TEMPLATE_ALLOWED = {"EN", "中文"}
_LETTERS = re.compile(r"[A-Za-z\u4e00-\u9fff]")
_ATTRS = re.compile(r"""\b(placeholder|title|alt|aria-label|aria-description|data-confirm)\s*=\s*(["'])(.*?)\2""", re.S)


def untranslated_template_text(source: str) -> list[str]:
    """Literal words in a Django template that do not go through {% translate %}/{% blocktranslate %}."""
    text = re.sub(r"{%\s*comment\s*%}.*?{%\s*endcomment\s*%}", " ", source, flags=re.S)
    text = re.sub(r"{#.*?#}", " ", text, flags=re.S)
    text = re.sub(r"{%\s*blocktrans(late)?\b.*?{%\s*endblocktrans(late)?\s*%}", " ", text, flags=re.S)
    text = re.sub(r"<(script|style)\b.*?</\1>", " ", text, flags=re.S | re.I)
    text = re.sub(r"{%.*?%}|{{.*?}}", "\n", text, flags=re.S)
    found = [value.strip() for _, _, value in _ATTRS.findall(text) if _LETTERS.search(value)]
    text = re.sub(r"<!--.*?-->", " ", text, flags=re.S)
    text = re.sub(r"<[^>]*>", "\n", text)
    text = re.sub(r"&[#a-zA-Z0-9]+;", " ", text)
    found += [chunk.strip() for chunk in re.split(r"\s{2,}|\n", text) if _LETTERS.search(chunk)]
    return [f for f in found if f not in TEMPLATE_ALLOWED]


def test_template_scanner_catches_literal_text() -> None:
    sample = """{% load i18n %}<h1>{% translate "Fine" %}</h1><p>Hard coded</p><input placeholder="Type here">
    {% blocktranslate %}Also fine {{ x }}{% endblocktranslate %}<button>中文</button><span>签到</span>{# note #}"""
    assert untranslated_template_text(sample) == ["Type here", "Hard coded", "签到"]


def test_templates_translate_every_visible_string() -> None:
    problems = {}
    for directory in TEMPLATE_DIRS:
        for path in directory.rglob("*.html"):
            if ".venv" in path.parts:
                continue
            found = untranslated_template_text(path.read_text(encoding="utf-8"))
            if found:
                problems[str(path.relative_to(ROOT))] = found
    assert not problems, f"wrap these in {{% translate %}} / {{% blocktranslate %}}: {problems}"


_MESSAGE_CALLS = {"success", "error", "info", "warning", "debug", "add_message"}
_TEXT_KEYWORDS = {"label", "verbose_name", "verbose_name_plural", "help_text", "message"}


def _is_literal_text(node: ast.AST | None) -> bool:
    return isinstance(node, ast.Constant) and isinstance(node.value, str) and bool(_LETTERS.search(node.value))


def untranslated_python_messages(source: str, *, is_api: bool = False) -> list[str]:
    """Plain string literals handed to people (messages, ValidationError, form/model labels) without gettext."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
        owner = func.value.id if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) else ""
        candidates: list[ast.AST | None] = []
        if owner == "messages" and name in _MESSAGE_CALLS:
            candidates.append(node.args[-1] if node.args else None)
        if name == "ValidationError" and node.args:
            candidates.append(node.args[0])
        if not is_api:  # OpenAPI help texts in api.py are developer documentation, not member-facing
            candidates += [kw.value for kw in node.keywords if kw.arg in _TEXT_KEYWORDS]
            if name in {"CharField", "EmailField", "BooleanField", "IntegerField", "DateTimeField"} and node.args:
                candidates.append(node.args[0])  # Django model field verbose_name
        found += [f"line {c.lineno}: {c.value!r}" for c in candidates if _is_literal_text(c)]
    return found


def test_python_scanner_catches_literal_messages() -> None:
    sample = (
        "messages.success(request, 'Saved!')\n"
        "messages.error(request, _('Fine'))\n"
        "raise ValidationError('Bad phone')\n"
        "name = models.CharField('name', max_length=3)\n"
        "x = forms.CharField(label=_('ok'), help_text='Oops')\n"
    )
    assert [f.split(": ", 1)[1] for f in untranslated_python_messages(sample)] == [
        "'Saved!'",
        "'Bad phone'",
        "'name'",
        "'Oops'",
    ]


def test_python_user_messages_are_translatable() -> None:
    problems = {}
    for path in ROOT.rglob("*.py"):
        rel = path.relative_to(ROOT)
        if rel.parts[0] in NOT_SOURCE or "migrations" in rel.parts:
            continue
        is_api = path.name == "api.py" or path.name.startswith("api_") or "api" in rel.parts[:-1]
        found = untranslated_python_messages(path.read_text(encoding="utf-8"), is_api=is_api)
        if found:
            problems[str(rel)] = found
    assert not problems, f"wrap these in gettext/gettext_lazy: {problems}"
