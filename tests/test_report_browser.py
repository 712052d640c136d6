"""Unit tests of the headless-Chromium report check, on a tiny page that embeds images the way Snakemake 9 does."""

import io
import json
from pathlib import Path

import pytest
from PIL import Image
from report_browser import CHROMIUM, ReportRender, embedded_images, render_report, screenshot
from snakemake.report.common import data_uri

needs_chromium = pytest.mark.skipif(
    CHROMIUM is None, reason="Debian's chromium package is not installed (apt-get install chromium)"
)
LOGO_SVG = b'<svg xmlns="http://www.w3.org/2000/svg" width="58" height="20"><rect width="58" height="20"/></svg>'


def _png(width: int, height: int) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), "teal").save(buffer, "PNG")
    return buffer.getvalue()


def _result(data: bytes, filename: str, mime: str, caption: str = "") -> dict:
    """A result entry as Snakemake's render_results writes it (fields the report app reads)."""
    return {"name": filename, "caption": caption, "mime_type": mime, "data_uri": data_uri(data, filename, mime=mime)}


def _report(path: Path) -> Path:
    """A page with Snakemake's script blocks: a good, a truncated and a garbage PNG, a caption image, a table, a logo.

    Like the real report it builds its navigation in JavaScript from `categories`.
    """
    good = _png(37, 21)
    results = {
        "results/good.png": _result(good, "good.png", "image/png"),
        "results/truncated.png": _result(good[: len(good) // 2], "truncated.png", "image/png"),
        "results/garbage.png": _result(b"not a png", "garbage.png", "image/png"),
        "results/table.tsv": _result(
            b"a\tb\n",
            "table.tsv",
            "text/tab-separated-values",
            caption=f'<p>see <img alt="inline" src="{data_uri(_png(5, 3), "inline.png", mime="image/png")}"></p>',
        ),
    }
    categories = {"Corpus": {"Other": ["results/good.png"]}, "Hidden": {}}
    logo = data_uri(LOGO_SVG, "logo.svg", mime="image/svg+xml")
    path.write_text(
        f"""<!doctype html><html><body><div id="app"></div>
<script id="workflow-desc">
    var workflow_desc = "<p>A workflow.</p>";
    </script>
<script id="results">
    var results = {json.dumps(results)};
    </script>
<script id="categories">
    var categories = {json.dumps(categories)};
    </script>
<script id="logo">
    var logo_uri = "{logo}";
    </script>
<script>
setTimeout(() => {{
  const nav = document.createElement("nav");
  nav.textContent = Object.keys(categories).filter(c => Object.keys(categories[c]).length).join(" ");
  document.querySelector("#app").append(nav);
}}, 10);
</script>
</body></html>
""",
        encoding="utf-8",
    )
    return path


def test_embedded_images_finds_results_caption_images_and_logo(tmp_path):
    names = embedded_images(_report(tmp_path / "report.html").read_text(encoding="utf-8"))
    assert sorted(names) == [
        "logo",
        "results/garbage.png",
        "results/good.png",
        "results/table.tsv caption image 1",
        "results/truncated.png",
    ]


def test_embedded_images_rejects_other_html():
    with pytest.raises(RuntimeError, match="not a Snakemake 9 report"):
        embedded_images("<html><body>no report</body></html>")


@pytest.fixture(scope="module")
def render(tmp_path_factory) -> ReportRender:
    """One render of the tiny report, shared: each Chromium start costs most of a second."""
    workdir = tmp_path_factory.mktemp("report")
    return render_report(_report(workdir / "report.html"), workdir)


@needs_chromium
def test_render_report_loads_good_images_and_flags_broken_ones(render):
    assert render.images["results/good.png"] == (37, 21)
    assert render.images["results/table.tsv caption image 1"] == (5, 3)
    assert render.images["logo"] == (58, 20)
    assert sorted(render.failed) == ["results/garbage.png", "results/truncated.png"]
    assert render.images["results/truncated.png"] == (0, 0)


@needs_chromium
def test_render_report_returns_dom_after_javascript(render):
    assert render.nav_text == "Corpus"
    assert "Hidden" in render.dom  # only in the embedded JSON, which nav_text ignores


def test_nav_text_joins_nested_navigation_text():
    render = ReportRender(
        dom="<nav><h1>Report</h1><nav>home</nav><li>Corpus</li></nav><p>Analysis</p>", images={}, failed=[]
    )
    assert render.nav_text == "Report home Corpus"


@needs_chromium
def test_screenshot_has_the_requested_size(tmp_path):
    png = tmp_path / "shot.png"
    screenshot(_report(tmp_path / "report.html"), png, width=640, height=480)
    assert Image.open(png).size == (640, 480)
