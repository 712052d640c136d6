"""Headless-Chromium checks of a Snakemake 9 HTML report, for tests.

Snakemake renders the report in the browser (React + Tailwind from inline scripts), so only a browser shows whether
it works. Result files are embedded as base64 data URIs in ``var results = {...}``
(``<script id="results">``, key = result path, fields ``mime_type`` and ``data_uri``); captions and the workflow
description are HTML in which reST images are data URIs too, and the navbar logo is ``var logo_uri``.
"""

from __future__ import annotations

import html
import json
import re
import subprocess
import tempfile
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from shutil import which
from typing import Any

CHROMIUM: str | None = next(filter(None, map(which, ("chromium", "chromium-browser", "google-chrome"))), None)
TIMEOUT_S = 120
# Virtual time only runs out while the page idles, so a generous budget costs little real time.
VIRTUAL_TIME_MS = 30_000
_DATA_IMG = re.compile(r"""src=["'](data:image/[^"']+)["']""")
_RESULTS_PRE = re.compile(r'<pre id="results">(.*?)</pre>', re.DOTALL)

# Chromium fires `load` for a truncated PNG (it draws what arrived), with the full size from the header;
# createImageBitmap needs the whole image and rejects it. img.decode() is no use: headless it may never settle.
_PROBE_JS = """
function settled(img) {
  return img.complete ? Promise.resolve()
    : new Promise(done => { img.onload = done; img.onerror = done; });
}
async function probe(img) {
  await settled(img);
  const result = {name: img.dataset.name, width: img.naturalWidth, height: img.naturalHeight, ok: false};
  try {
    await createImageBitmap(img);
    result.ok = img.naturalWidth > 0 && img.naturalHeight > 0;
  } catch (error) {
    result.error = String(error);
  }
  return result;
}
Promise.all([...document.images].map(probe)).then(results => {
  const pre = document.createElement("pre");
  pre.id = "results";
  pre.textContent = JSON.stringify(results);
  document.body.append(pre);
});
"""

# Snakemake's app keeps its root component in the global `app` (created asynchronously by React);
# this drives it the way its result and category buttons do (see ButtonViewManager in the report's JS).
_VIEW_JS = """
const view = %s;
const views = {"image/svg+xml": "img", "image/png": "img", "image/jpeg": "img",
               "text/html": "html", "application/pdf": "pdf"};
const timer = setInterval(() => {
  if (typeof app === "undefined") return;
  clearInterval(timer);
  if (view.category) app.showCategory(view.category);
  if (view.result) {
    const entry = results[view.result];
    app.setView({navbarMode: "resultinfo", resultPath: view.result,
                 content: views[entry.mime_type], contentPath: entry.data_uri});
  }
}, 20);
"""


@dataclass
class ReportRender:
    """What Chromium made of a report: its DOM after the scripts ran, and how each embedded image loaded."""

    dom: str
    images: dict[str, tuple[int, int]]
    failed: list[str]

    @property
    def nav_text(self) -> str:
        """Visible text of the rendered navigation; the raw DOM also holds the category names as embedded JSON."""
        parser = _NavText()
        parser.feed(self.dom)
        return " ".join(parser.text)

    @property
    def visible_text(self) -> str:
        """The page's text outside scripts and styles: what the landing page shows, not the JSON it is built from."""
        parser = _VisibleText()
        parser.feed(self.dom)
        return " ".join(parser.text)


class _VisibleText(HTMLParser):
    """Collects text outside <script> and <style> elements."""

    def __init__(self) -> None:
        super().__init__()
        self.hidden = 0
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list) -> None:
        if tag in ("script", "style"):
            self.hidden += 1

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style") and self.hidden:
            self.hidden -= 1

    def handle_data(self, data: str) -> None:
        if not self.hidden and data.strip():
            self.text.append(data.strip())


class _NavText(HTMLParser):
    """Collects the text inside <nav> elements (the report's navigation nests a breadcrumb <nav> in the navbar)."""

    def __init__(self) -> None:
        super().__init__()
        self.depth = 0
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list) -> None:
        if tag == "nav":
            self.depth += 1

    def handle_endtag(self, tag: str) -> None:
        if tag == "nav" and self.depth:
            self.depth -= 1

    def handle_data(self, data: str) -> None:
        if self.depth and data.strip():
            self.text.append(data.strip())


def render_report(report: Path, workdir: Path) -> ReportRender:
    """Render the report in Chromium and load every image it embeds on a probe page written to workdir."""
    dom = _dump_dom(report)
    probe_page = workdir / "report_images.html"
    probe_page.write_text(_probe_page(embedded_images(report.read_text(encoding="utf-8"))), encoding="utf-8")
    probes = _probe_results(_dump_dom(probe_page))
    images = {p["name"]: (p["width"], p["height"]) if p["ok"] else (0, 0) for p in probes}
    return ReportRender(dom=dom, images=images, failed=[p["name"] for p in probes if not p["ok"]])


def screenshot(
    report: Path,
    png: Path,
    width: int = 1400,
    height: int = 900,
    *,
    category: str | None = None,
    result: str | None = None,
) -> None:
    """Save a PNG of the report: its landing page, or a category's listing, or a result (its path) on display."""
    with tempfile.TemporaryDirectory(prefix="report-view-") as tmp:
        page = report
        if category or result:
            page = Path(tmp) / report.name
            page.write_text(_with_view(report.read_text(encoding="utf-8"), category, result), encoding="utf-8")
        _chromium(
            f"--screenshot={png.resolve()}",
            f"--window-size={width},{height}",
            "--hide-scrollbars",
            f"--virtual-time-budget={VIRTUAL_TIME_MS}",
            page.resolve().as_uri(),
        )
    if not png.is_file():
        raise RuntimeError(f"Chromium wrote no screenshot to {png}")


def embedded_images(report_html: str) -> dict[str, str]:
    """Name -> data URI of every image the report embeds: image results, images in captions, description, logo."""
    results = _script_var(report_html, "results", "results")
    images = {path: r["data_uri"] for path, r in results.items() if r["mime_type"].startswith("image/")}
    for path, r in results.items():
        images |= _html_images(r["caption"] or "", f"{path} caption")
    images |= _html_images(_script_var(report_html, "workflow-desc", "workflow_desc"), "workflow description")
    images["logo"] = _script_var(report_html, "logo", "logo_uri")
    return images


def _html_images(fragment: str, label: str) -> dict[str, str]:
    """Data-URI images of an HTML fragment (reST image directives in captions are embedded this way)."""
    return {f"{label} image {i}": uri for i, uri in enumerate(_DATA_IMG.findall(fragment), 1)}


def _script_var(report_html: str, script_id: str, name: str) -> Any:
    """Decode the JSON literal Snakemake assigns to `var name` in <script id="script_id">."""
    match = re.search(rf'<script id="{script_id}">\s*var {name} = ', report_html)
    if match is None:
        raise RuntimeError(f"no `var {name}` in <script id={script_id!r}>: not a Snakemake 9 report?")
    return json.JSONDecoder().raw_decode(report_html, match.end())[0]


def _probe_page(images: dict[str, str]) -> str:
    """A page that loads each image as the report does (an <img> with the data URI) and writes the outcome."""
    tags = "\n".join(f'<img data-name="{html.escape(name)}" src="{html.escape(uri)}">' for name, uri in images.items())
    return f"<!doctype html>\n<html><body>\n{tags}\n<script>{_PROBE_JS}</script>\n</body></html>\n"


def _probe_results(dom: str) -> list[dict]:
    """The per-image outcomes the probe page wrote into <pre id="results">."""
    match = _RESULTS_PRE.search(dom)
    if match is None:
        raise RuntimeError('the image probe page wrote no <pre id="results"> (its script failed or hung)')
    return json.loads(html.unescape(match.group(1)))


def _with_view(report_html: str, category: str | None, result: str | None) -> str:
    """The report with a script that opens the category or result once the app is up."""
    if category is not None and category not in _script_var(report_html, "categories", "categories"):
        raise ValueError(f"the report has no category {category!r}")
    if result is not None and result not in _script_var(report_html, "results", "results"):
        raise ValueError(f"the report has no result {result!r}")
    script = _VIEW_JS % json.dumps({"category": category, "result": result}).replace("</", "<\\/")
    head, sep, tail = report_html.rpartition("</body>")
    return f"{head}<script>{script}</script>\n{sep}{tail}"


def _dump_dom(page: Path) -> str:
    """The page's DOM once its scripts ran (virtual time lets timers and async work finish)."""
    return _chromium("--dump-dom", f"--virtual-time-budget={VIRTUAL_TIME_MS}", page.resolve().as_uri())


def _chromium(*args: str) -> str:
    """Run headless Chromium on a throwaway profile (parallel runs must not share one) and return its stdout."""
    if CHROMIUM is None:
        raise RuntimeError("Chromium is not installed (apt-get install chromium)")
    with tempfile.TemporaryDirectory(prefix="chromium-profile-") as profile:
        command = [
            CHROMIUM,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            f"--user-data-dir={profile}",
            *args,
        ]
        try:
            done = subprocess.run(command, check=False, capture_output=True, timeout=TIMEOUT_S)
        except subprocess.TimeoutExpired as error:
            raise RuntimeError(f"Chromium timed out after {TIMEOUT_S} s:\n{_tail(error.stderr)}") from error
    if done.returncode != 0:
        raise RuntimeError(f"Chromium exited with {done.returncode}:\n{_tail(done.stderr)}")
    return done.stdout.decode("utf-8", errors="replace")


def _tail(stderr: bytes | None, lines: int = 20) -> str:
    """The last lines of Chromium's stderr, for error messages."""
    return "\n".join((stderr or b"").decode("utf-8", errors="replace").splitlines()[-lines:])
