"""The report as PDF: WeasyPrint with a confined fetcher, no attachments, reproducible bytes.

Safety: WeasyPrint fetches resources only through :func:`confined_fetcher`, which
serves `data:` URLs and files inside the template folder and refuses everything
else (other files, any host); PDF attachments are dropped. Determinism: the
render runs with SOURCE_DATE_EPOCH set (font subset timestamps). Speed: the CLI
renders in a forked child (`child`), which imports WeasyPrint while the CLI writes
the HTML and forks a grandchild to draw the charts (`drawing`); the same code, so
the same bytes, as in-process.
"""

from __future__ import annotations

import json
import os
import sys
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Callable, Iterator, Sequence
from urllib.parse import unquote, urlsplit

from ...errors import MissingPieceError, ReportError
from . import child
from .context import epoch
from .drawing import PendingCharts, expected_charts
from .html import check_paper, render_html
from .templates import inside, template_folder

# Used when the user has not set SOURCE_DATE_EPOCH: only font subset timestamps
# depend on it, and a constant keeps the bytes reproducible.
DEFAULT_SOURCE_DATE_EPOCH = "1704067200"  # 2024-01-01T00:00:00Z

# The compact fonts of the template folder (fonts/, see fonts/build_fonts.py): subsetting them is
# several times faster than subsetting the installed DejaVu faces (no OpenType layout tables to read).
FONT_FACES = (("tokencalc Sans", "normal", "normal", "tokencalc-sans.ttf"),
              ("tokencalc Sans", "bold", "normal", "tokencalc-sans-bold.ttf"),
              ("tokencalc Sans", "normal", "oblique", "tokencalc-sans-oblique.ttf"),
              ("tokencalc Sans Mono", "normal", "normal", "tokencalc-sans-mono.ttf"))


def weasyprint_module() -> Any:
    """WeasyPrint, or a clean error naming what to install."""
    try:
        if "weasyprint" not in sys.modules and sys.platform.startswith("linux"):
            _import_with_sonames()
        import weasyprint
    except OSError as exc:  # the Python package is there, Pango/HarfBuzz/... are not
        raise MissingPieceError(
            f"PDF output needs WeasyPrint's system libraries (Pango, HarfBuzz, fontconfig), which could not be "
            f"loaded: {exc}. Install them (Debian/Ubuntu: apt-get install libpango-1.0-0 libpangoft2-1.0-0 "
            f"libharfbuzz0b; macOS: brew install pango), or write HTML instead (-o report.html).") from None
    except ImportError:
        raise MissingPieceError("PDF output needs WeasyPrint, which cannot be imported: pip install weasyprint "
                                "(a plain `pip install tokencalc` brings it), or write HTML instead: -o report.html"
                                ) from None
    return weasyprint


def _import_with_sonames() -> None:
    """Import WeasyPrint on Linux without `ctypes.util.find_library` (0.15 s less, a fifth of the import).

    WeasyPrint tries each system library under several names (Windows, macOS and Linux ones, in
    that order) and cffi answers every miss by calling `find_library`, which on Linux runs
    `ldconfig -p` and then `gcc`. Each list also holds the library's Linux soname, which the dynamic
    loader finds by itself; with the misses answered at once, the same libraries load. Should that
    fail (a library only `gcc` can find), the half-imported modules are dropped and the caller
    imports as usual; WeasyPrint's banner about missing libraries is held back meanwhile.
    """
    import contextlib
    import ctypes.util
    import io

    original = ctypes.util.find_library
    ctypes.util.find_library = lambda name: None
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            import weasyprint  # noqa: F401
    except OSError:
        for name in [m for m in sys.modules if m == "weasyprint" or m.startswith("weasyprint.")]:
            del sys.modules[name]
    finally:
        ctypes.util.find_library = original


CHART_SCHEME = "tokencalc-chart:"  # the report's own charts, handed over from memory (see render_pdf)


def confined_fetcher(roots: Sequence[Path], charts: Callable[[str], bytes | None] | None = None) -> Any:
    """A WeasyPrint URL fetcher that serves `data:` URLs and files under `roots`, nothing else.

    It subclasses `weasyprint.urls.URLFetcher` (WeasyPrint ≥ 70 requires it).
    Refused URLs are recorded in `.blocked` and raise, which WeasyPrint treats
    as a missing resource. With `charts`, `tokencalc-chart:<name>` is the SVG
    `charts(name)` returns (no file is read).
    """
    from weasyprint.urls import URLFetcher, URLFetcherResponse

    allowed = [Path(r).resolve() for r in roots]

    class ConfinedFetcher(URLFetcher):
        """Only `data:` URLs and files inside the template folder."""

        def __init__(self) -> None:
            super().__init__(allowed_protocols=("data", "file"), allow_redirects=False, timeout=1)
            self.blocked: list[str] = []

        def fetch(self, url: str, headers: Any = None) -> Any:
            scheme = url.split(":", 1)[0].lower() if ":" in url else ""
            if charts is not None and url.startswith(CHART_SCHEME):
                data = charts(url[len(CHART_SCHEME):])
                if data is not None:
                    return URLFetcherResponse(url, data, {"Content-Type": "image/svg+xml"})
            if scheme == "data":
                return super().fetch(url, headers)
            if scheme == "file":
                parts = urlsplit(url)
                if parts.netloc in ("", "localhost"):
                    path = Path(unquote(parts.path))
                    if path.is_file() and any(inside(path, root) for root in allowed):
                        data = path.resolve().read_bytes()
                        return URLFetcherResponse(url, data, {"Content-Type": _mime(path)})
            self.blocked.append(url)
            raise ValueError(f"tokencalc: blocked {url} (only the template folder and data: URLs)")

    return ConfinedFetcher()


def _mime(path: Path) -> str:
    return {".css": "text/css", ".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg",
            ".svg": "image/svg+xml", ".gif": "image/gif", ".ttf": "font/ttf", ".otf": "font/otf",
            ".woff": "font/woff", ".woff2": "font/woff2"}.get(path.suffix.lower(), "application/octet-stream")


@contextmanager
def source_date_epoch() -> Iterator[None]:
    """Set SOURCE_DATE_EPOCH for the duration of a render unless the user has (fontTools reads it)."""
    if "SOURCE_DATE_EPOCH" in os.environ:
        epoch(os.environ["SOURCE_DATE_EPOCH"])
        yield
        return
    os.environ["SOURCE_DATE_EPOCH"] = DEFAULT_SOURCE_DATE_EPOCH
    try:
        yield
    finally:
        os.environ.pop("SOURCE_DATE_EPOCH", None)


def font_faces(base_dir: Path) -> str:
    """@font-face rules for the compact fonts in `base_dir/fonts` ("" when the folder lacks any of them)."""
    folder = base_dir / "fonts"
    if not all((folder / name).is_file() and inside(folder / name, base_dir) for *_, name in FONT_FACES):
        return ""
    return "".join(f'@font-face {{ font-family: "{family}"; font-weight: {weight}; font-style: {style}; '
                   f'src: url("fonts/{name}"); }}\n' for family, weight, style, name in FONT_FACES)


def render_document(html: str, base_dir: Path, fetcher: Any = None) -> Any:
    """Lay the HTML out with WeasyPrint (confined fetcher, the template folder's compact fonts).

    Returns:
        The WeasyPrint Document, attachments removed (no <link>/<a rel=attachment> is embedded).
    """
    weasyprint = weasyprint_module()
    from weasyprint.text.fonts import FontConfiguration

    fetcher = fetcher if fetcher is not None else confined_fetcher([base_dir])
    fonts = FontConfiguration()
    base = base_dir.as_uri() + "/"
    faces = font_faces(base_dir)
    styles = [weasyprint.CSS(string=faces, base_url=base, url_fetcher=fetcher, font_config=fonts)] if faces else []
    doc = weasyprint.HTML(string=html, base_url=base, url_fetcher=fetcher).render(stylesheets=styles,
                                                                                   font_config=fonts)
    doc.metadata.attachments = []
    for page in doc.pages:
        page.links[:] = [link for link in page.links if link[0] != "attachment"]
    return doc


def html_to_pdf(html: str, base_dir: Path, charts: Callable[[str], bytes | None] | None = None
                ) -> tuple[bytes, list[str]]:
    """Render HTML to PDF bytes with the confined fetcher and no attachments.

    Args:
        charts: what `tokencalc-chart:<name>` images are (see `confined_fetcher`).

    Returns:
        (the PDF, the URLs that were refused).
    """
    fetcher = confined_fetcher([base_dir], charts)
    with source_date_epoch():
        try:
            pdf = render_document(html, base_dir, fetcher).write_pdf()
        except OSError as exc:  # an unreadable image or font the template folder supplied
            raise ReportError(f"PDF render failed: {exc} (a broken image or font in {base_dir}?)") from None
    return pdf, list(fetcher.blocked)


def render_pdf(app: Any, *, argv: Sequence[str], template_dir: str | os.PathLike | None = None,
               paper: str = "a4", workers: Any = None) -> tuple[bytes, list[str]]:
    """The report of an `analysis.appendix.Appendix` as PDF bytes, plus the URLs the fetcher refused.

    With `workers` (started `workers.ReportWorkers`), they render; otherwise, where it can, a
    forked child renders (`child.run`): it imports WeasyPrint while this process
    writes the HTML, and this process never imports WeasyPrint nor frees a layout. The charts come
    from another child (`drawing.PendingCharts`). In-process anywhere else, and whenever the child
    fails, which raises the real error; the bytes are the same either way.

    Raises:
        MissingPieceError: WeasyPrint or its system libraries missing; or as for `render_html`.
    """
    from markupsafe import Markup

    check_paper(paper)
    folder = template_folder(template_dir)  # a bad --template fails here, before anything starts
    names = expected_charts(app)  # so does a missing matplotlib

    def html() -> str:  # the charts as `tokencalc-chart:<name>` images, handed over by the fetcher
        images = {n: Markup(f'<img class="chart" alt="{n} chart" src="{CHART_SCHEME}{n}">') for n in names}
        return render_html(app, argv=argv, template_dir=template_dir, paper=paper, drawn=images)

    if workers is not None and workers.started:
        from .drawing import chart_jobs

        done = workers.render_pdf({n: ("inline", a) for n, a in chart_jobs(app).items() if n in names}, folder,
                                  html())
        if done is not None:
            return done
    packed = child.run(lambda receive: _pack(*_render(app, folder, lambda: receive().decode("utf-8"))),
                       lambda: html().encode("utf-8"))
    if packed is not None:
        return _unpack(packed)
    return _render(app, folder, html)


def _render(app: Any, folder: Path, html: Callable[[], str]) -> tuple[bytes, list[str]]:
    """The PDF of `html()`, its charts drawn by a forked child while WeasyPrint imports here (the
    fetcher asks for them mid-layout)."""
    pending = PendingCharts(app)
    try:
        weasyprint_module()  # imports while the charts are drawn; fails early without the system libraries
        out = html_to_pdf(html(), folder, pending.get)
    finally:
        pending.close()
    if pending.error is not None:
        raise pending.error
    return out


def _pack(pdf: bytes, blocked: list[str]) -> bytes:
    return json.dumps(blocked).encode("utf-8") + b"\n" + pdf


def _unpack(packed: bytes) -> tuple[bytes, list[str]]:
    head, pdf = packed.split(b"\n", 1)
    return pdf, list(json.loads(head))
