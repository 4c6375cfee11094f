"""Report templates: the confined, autoescaping Jinja2 environment and the template folder.

Profile text can never become markup (autoescape, sandbox, StrictUndefined); a
user template folder (`--template DIR`) is the only place templates and assets
are read from, besides the bundled one (reachable as `tokencalc/<name>`).
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

from ...errors import ReportError

TEMPLATE = "report.html.j2"
STYLESHEET = "report.css"


def templates_dir() -> Path:
    """The bundled templates folder (inside the wheel, or at the repo root in a checkout)."""
    here = Path(__file__).resolve().parents[2]  # the tokencalc package
    bundled = here / "templates"
    return bundled if bundled.is_dir() else here.parent / "templates"


def template_folder(user_dir: str | os.PathLike | None) -> Path:
    """The folder templates and assets come from: `--template DIR` or the bundled one.

    Raises:
        ReportError: the folder does not exist or has no `report.html.j2`.
    """
    if user_dir is None:
        return templates_dir().resolve()
    folder = Path(user_dir)
    if not folder.is_dir():
        raise ReportError(f"--template {user_dir}: not a folder")
    if not (folder / TEMPLATE).is_file():
        raise ReportError(f"--template {user_dir}: expected a {TEMPLATE} in it (copy the bundled one from "
                          f"{templates_dir()} and edit it)")
    return folder.resolve()


def inside(path: Path, root: Path) -> bool:
    try:
        path.resolve().relative_to(root.resolve())
        return True
    except ValueError:
        return False


def environment(folder: Path) -> Any:
    """A sandboxed, autoescaping Jinja2 environment confined to `folder`.

    The bundled templates are also reachable as `tokencalc/<name>`, so a user
    template can `{% extends "tokencalc/report.html.j2" %}` and override blocks.
    """
    import jinja2
    from jinja2.sandbox import SandboxedEnvironment

    class Confined(jinja2.FileSystemLoader):
        # FileSystemLoader already rejects `..`; also refuse symlinks that lead out.
        def get_source(self, environment: Any, template: str) -> Any:
            source, filename, uptodate = super().get_source(environment, template)
            if not any(inside(Path(filename), Path(root)) for root in self.searchpath):
                raise jinja2.TemplateNotFound(template)
            return source, filename, uptodate

    loader = jinja2.ChoiceLoader([
        Confined(str(folder)),
        jinja2.PrefixLoader({"tokencalc": Confined(str(templates_dir()))}),
    ])
    env = SandboxedEnvironment(loader=loader, autoescape=True, trim_blocks=True, lstrip_blocks=True,
                               undefined=jinja2.StrictUndefined, keep_trailing_newline=True)
    env.filters["sym"] = symbols
    env.filters["prose"] = prose
    env.filters["key"] = key_markup
    return env


def stylesheet(folder: Path) -> str:
    own = folder / STYLESHEET
    path = own if own.is_file() and inside(own, folder) else templates_dir() / STYLESHEET
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise ReportError(f"--template: {path} is not UTF-8 text (a stylesheet must be)") from None


_SYMBOL = re.compile(r"(?<![A-Za-z])(K|c|e|P|γ\*|γ|η|Φ|Q̇)_(eff|tok|IT|peak|facility|ref|K|E|P|c|e)\b")


def symbols(text: Any) -> Any:
    """Escape `text`, then typeset symbols like K_eff, γ*_peak, η_K with subscripts."""
    from markupsafe import Markup, escape

    return Markup(_SYMBOL.sub(r"\1<sub>\2</sub>", str(escape(text))))


CODE_SPAN = re.compile(r"`([^`\n]+)`")


def prose(text: Any) -> Any:
    """Escape profile text; its `backtick` spans become <code> (their content escaped too)."""
    from markupsafe import Markup, escape

    parts = CODE_SPAN.split(str(text))
    return Markup("".join(str(escape(p)) if i % 2 == 0 else f"<code>{escape(p)}</code>"
                          for i, p in enumerate(parts)))


KEY_FITS = 24  # characters of a key that fit its table column unbroken


def key_markup(text: Any) -> Any:
    """Escape a dotted key (`workload.measured.e_tok`); a long one may break after its dots, colons and
    underscores only (<wbr>), never inside a name. Short keys get no <wbr>: each is an element to lay out."""
    from markupsafe import Markup, escape

    safe = str(escape(text))
    return Markup(safe if len(str(text)) <= KEY_FITS else re.sub(r"([._:])(?=.)", r"\1<wbr>", safe))
