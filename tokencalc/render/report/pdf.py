"""The report as PDF: WeasyPrint with a confined fetcher, no attachments, reproducible bytes.

Safety: WeasyPrint fetches resources only through :func:`confined_fetcher`, which
serves `data:` URLs and files inside the template folder and refuses everything
else (other files, any host); PDF attachments are dropped. Determinism: the
render runs with SOURCE_DATE_EPOCH set (font subset timestamps).
"""

from __future__ import annotations

import os
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator, Sequence
from urllib.parse import unquote, urlsplit

from ...errors import MissingPieceError, ReportError
from .context import epoch
from .drawing import charts_in_background
from .html import check_paper, render_html
from .templates import inside, template_folder

# Used when the user has not set SOURCE_DATE_EPOCH: only font subset timestamps
# depend on it, and a constant keeps the bytes reproducible.
DEFAULT_SOURCE_DATE_EPOCH = "1704067200"  # 2024-01-01T00:00:00Z


def weasyprint_module() -> Any:
    """WeasyPrint, or a clean error naming what to install."""
    try:
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


def confined_fetcher(roots: Sequence[Path]) -> Any:
    """A WeasyPrint URL fetcher that serves `data:` URLs and files under `roots`, nothing else.

    It subclasses `weasyprint.urls.URLFetcher` (WeasyPrint ≥ 70 requires it).
    Refused URLs are recorded in `.blocked` and raise, which WeasyPrint treats
    as a missing resource.
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


def html_to_pdf(html: str, base_dir: Path) -> tuple[bytes, list[str]]:
    """Render HTML to PDF bytes with the confined fetcher and no attachments.

    Returns:
        (the PDF, the URLs that were refused).
    """
    weasyprint = weasyprint_module()
    fetcher = confined_fetcher([base_dir])
    with source_date_epoch():
        try:
            doc = weasyprint.HTML(string=html, base_url=base_dir.as_uri() + "/", url_fetcher=fetcher).render()
            # No embedded files: neither <link rel=attachment> nor <a rel=attachment>.
            doc.metadata.attachments = []
            for page in doc.pages:
                page.links[:] = [link for link in page.links if link[0] != "attachment"]
            pdf = doc.write_pdf()
        except OSError as exc:  # an unreadable image or font the template folder supplied
            raise ReportError(f"PDF render failed: {exc} (a broken image or font in {base_dir}?)") from None
    return pdf, list(fetcher.blocked)


def render_pdf(app: Any, *, argv: Sequence[str], template_dir: str | os.PathLike | None = None,
               paper: str = "a4") -> tuple[bytes, list[str]]:
    """The report of an `analysis.appendix.Appendix` as PDF bytes, plus the URLs the fetcher refused.

    Raises:
        MissingPieceError: WeasyPrint or its system libraries missing; or as for `render_html`.
    """
    check_paper(paper)
    folder = template_folder(template_dir)
    pending = charts_in_background(app.result.values)
    try:
        weasyprint_module()  # imports while the charts are drawn; fails early without the system libraries
    except MissingPieceError:
        pending(discard=True)
        raise
    html = render_html(app, argv=argv, template_dir=template_dir, paper=paper, drawn=pending())
    return html_to_pdf(html, folder)


