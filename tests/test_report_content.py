"""Report content: trajectory totals labelled, typography (code, counts, money, chart symbols, keys), the
cited sources only (BibTeX convention, [override] citations kept)."""

from __future__ import annotations

import re

import pytest

from tokencalc.analysis.appendix import appendix
from tokencalc.render import charts
from tokencalc.render import report as R
from tokencalc.render.report.bibtex import bib_author
from tokencalc.render.report.context import sources
from tokencalc.resolve.scenario import Request


@pytest.fixture(scope="module")
def iea():
    return appendix(Request(scenario="iea-energy-and-ai"))


@pytest.fixture(scope="module")
def uncertain():
    return appendix(Request(scenario="default-uncertain"))


def html_of(app) -> str:
    return R.render_html(app, argv=["tokencalc", "report"])


def section(html: str, ident: str) -> str:
    return re.search(rf'<(section|footer) id="{ident}">(.*?)</\1>', html, re.S).group(2)


# ---------------------------------------------------------------------------
# 1. Trajectory totals labelled

def test_constant_and_trajectory_totals_are_labelled(iea):
    html = html_of(iea)
    result, horizon, checklist = section(html, "result"), section(html, "horizon"), section(html, "checklist")
    assert "Tokens Q(T), at constant inputs</td><td class=\"num\">22.3 quadrillion" in result
    assert "Facility energy, at constant inputs</td><td class=\"num\">52.9 TWh" in result
    assert "Horizon, at constant inputs" in result
    assert "Totals over the horizon, with the scenario&#39;s trajectories" in horizon
    assert "Tokens Q(T), with the scenario&#39;s trajectories</th><td class=\"num\">1.29 quintillion" in horizon
    assert "Facility energy, with the scenario&#39;s trajectories</th><td class=\"num\">1.93 PWh" in horizon
    item4 = re.findall(r"<tr class=\"\w+\">\s*<td>4</td>(.*?)</tr>", checklist, re.S)[0]
    assert "1.29 quintillion tokens over 7.00 years with the scenario&#39;s trajectories" in item4
    assert "(22.3 quadrillion at constant inputs)" in item4


def test_without_a_projection_the_checklist_quotes_the_constant_totals():
    app = appendix(Request())
    items = R.checklist(app.resolved, app.result, app.projection)
    assert app.projection is None
    assert items[3]["detail"].endswith("Q(T) = 1.83 trillion tokens over 365 days")
    assert "at constant inputs" not in html_of(app)


# ---------------------------------------------------------------------------
# 2. Typography

def test_backticks_in_profile_text_become_code(uncertain):
    desc = re.search(r'<p class="description">(.*?)</p>', html_of(uncertain), re.S).group(1)
    assert "<code>--mc N</code> samples the ranges and <code>tokencalc sensitivity</code> ranks them" in desc
    assert "`" not in desc
    assert str(R.templates.prose("a `<b>x</b>` & `y`")) == "a <code>&lt;b&gt;x&lt;/b&gt;</code> &amp; <code>y</code>"


def test_a_device_count_has_no_decimals():
    html = html_of(appendix(Request(scenario="h200-server-8x")))
    assert "<tr><th>Devices</th><td>8</td></tr>" in html and "8.00" not in section(html, "operating-point")


def test_money_goes_through_the_humanizer(iea):
    html = html_of(iea)
    assert "$156 B" in html and "$4.26 B" in html
    assert not re.search(r"\$\d{1,3}(,\d{3})+ [MB]\b", html)


def test_chart_labels_typeset_symbols_as_mathtext(iea):
    svg = charts.ceilings_svg(1e5, 2e5, 7e4, "compute", 0.7)
    text = " ".join(re.findall(r">([^<>]+)</tspan>|>([^<>]+)</text>", svg)[0])
    assert "K_eff" not in svg and "c_tok" not in svg and "P_IT" not in svg
    assert "font-style: oblique" in svg  # the symbols' italic glyphs
    regime = charts.regime_map_svg(4e-11, 1.2e-10, 1.3e-12, "realized")
    assert "γ = e_tok" not in regime and "γ* = P_IT" not in regime
    assert text


def test_metric_keys_are_words_in_the_uncertainty_section(uncertain):
    html = section(html_of(uncertain), "uncertainty")
    assert "token_rate_tokens_per_s" not in html and "emissions_kg_co2e" not in html
    assert "<td>Realized rate</td>" in html and "<td>Electricity cost</td>" in html
    assert "Tornado: the realized rate with each ranged input" in html
    fig = charts.tornado_figure(uncertain.swings, "Realized rate", "token/s")
    assert fig.axes[0].get_xlabel().startswith("Realized rate [ktoken/s]")


def test_long_keys_break_only_after_dots_and_underscores(uncertain):
    html = html_of(uncertain)
    assert '<code class="key">workload.<wbr>measured.<wbr>throughput_<wbr>per_<wbr>device</code>' in html
    assert '<code class="key">server_power_per_device</code>' in html  # fits its column: no break needed
    assert str(R.templates.key_markup("tokencalc:workload:x:model.kv_bytes")) == \
        "tokencalc:<wbr>workload:<wbr>x:<wbr>model.<wbr>kv_<wbr>bytes"
    css = (R.templates_dir() / "report.css").read_text(encoding="utf-8")
    assert re.search(r"code\.key \{[^}]*overflow-wrap: normal", css)
    assert "td code { overflow-wrap: anywhere" not in css


@pytest.mark.parametrize("author, field, affiliation", [
    ("Samsi et al.", "Samsi and others", None),
    ("Samsi, S. et al.", "Samsi, S. and others", None),
    ("L. Emberson, D. Owen (Epoch AI)", "L. Emberson and D. Owen", "Epoch AI"),
    ("Smith, J.", "Smith, J.", None),
    ("A. Smith and B. Jones", "A. Smith and B. Jones", None),
    ("International Energy Agency", "{International Energy Agency}", None),
    ("Mallory {x} & co", r"{Mallory \textbraceleft{}x\textbraceright{} \& co}", None),
])
def test_bibtex_authors_follow_the_convention(author, field, affiliation):
    assert bib_author(author) == (field, affiliation)


def test_an_override_keeps_the_scenarios_citation(uncertain):
    ctx = R.build_context(uncertain, argv=["tokencalc"], charts=False)
    pue = next(p for p in ctx["provenance"] if p["key"] == "pue")
    assert pue["source"].startswith("facility industry-average: override: [override] in")
    assert "Uptime Institute Global Data Center Survey 2024" in pue["source"]
    assert pue["cites"] == ["institute2024uptime"]
    assert "@misc{institute2024uptime," in ctx["bibtex"]
    e_tok = next(p for p in ctx["provenance"] if p["key"] == "e_tok")
    assert "From Words to Watts" in e_tok["source"] and e_tok["cites"] == ["samsi2023words"]


@pytest.mark.parametrize("scenario", ["default", "iea-energy-and-ai", "default-uncertain"])
def test_bibtex_lists_exactly_the_cited_sources(scenario):
    app = appendix(Request(scenario=scenario))
    ctx = R.build_context(app, argv=["tokencalc"], inline=False)
    cited = {k for rows in (ctx["provenance"], ctx["levers"], (ctx["horizon"] or {}).get("trajectories", []),
                            (ctx["uncertainty"] or {}).get("ranges", [])) for r in rows for k in r["cites"]}
    keys = re.findall(r"@misc\{([^,]+),", ctx["bibtex"])
    assert len(keys) == len(set(keys)) and set(keys) == cited
    every = {(p.kind, p.id, k) for p in app.resolved.profiles() for k in p.sources}
    assert len(keys) < len(every)  # not every key of every profile
    assert [s["key"] for s in sources(ctx["bib"])] == keys


def test_the_default_bibliography_leaves_out_what_the_inputs_do_not_use():
    app = appendix(Request())
    bib = R.build_context(app, argv=["tokencalc"], charts=False)["bibtex"]
    assert "author    = {Samsi and others}" in bib and "Samsi et al.}" not in bib
    assert "@misc{touvron2023llama," in bib and "@misc{samsi2023words," in bib
    # the scenario sets its own price and carbon intensity: the facility's sources for them are not cited
    facility = app.resolved.facility
    assert {"electricity_price", "carbon_intensity"} <= set(facility.sources)
    assert "industry-average: electricity" not in bib and "industry-average: carbon" not in bib
    assert r"scenario default: electricity\_price" in bib


def test_the_pdf_lists_the_sources_and_the_html_keeps_the_bibtex(iea):
    html = html_of(iea)
    src = section(html, "sources")
    assert '<ol class="sources">' in src and '<pre class="bibtex">' in src
    assert "L. Emberson and D. Owen" in src
    assert re.search(r"@media print \{[^@]*\.bibtex-block \{ display: none; \}",
                     (R.templates_dir() / "report.css").read_text(encoding="utf-8"))


# ---------------------------------------------------------------------------
# Provenance: a work is cited by author and year; its full entry is in the sources list once

@pytest.mark.parametrize("author, publisher, short", [
    ("Touvron et al.", None, "Touvron et al. 2023"),
    ("L. Emberson, D. Owen (Epoch AI)", None, "Emberson and Owen 2023"),
    ("J.-W. Chung, J. Ma, R. Wu", None, "Chung et al. 2023"),
    ("Kaplan, J.", None, "Kaplan 2023"),
    ("U.S. Energy Information Administration", None, "U.S. Energy Information Administration 2023"),
    ("ML.ENERGY (J.-W. Chung et al.)", None, "ML.ENERGY 2023"),
    (None, "NVIDIA", "NVIDIA 2023"),
])
def test_short_cites(author, publisher, short):
    from tokencalc.render.report.citations import short_cite
    from tokencalc.resolve.validate import Source

    assert short_cite(Source(text="t", title="A title", author=author, publisher=publisher, year="2023")) == short


def test_the_provenance_table_cites_each_work_in_full_only_in_the_sources_list():
    app = appendix(Request())
    ctx = R.build_context(app, argv=["tokencalc"], charts=False)
    rows = {p["key"]: p for p in ctx["provenance"]}
    fitted = [k for k, p in rows.items() if p["cites"] == ["chung2026energy"]]
    assert len(fitted) >= 5  # the serving model's fitted parameters share one source and one note
    first, *rest = fitted
    assert rows[first]["source"].startswith("hardware h100-sxm: ML.ENERGY 2026 (data dated")
    assert all(rows[k]["source"] == f"hardware h100-sxm: ML.ENERGY 2026 (as for `{first}`)" for k in rest)
    # a different note on the same work is shown where it applies
    assert "NVLink 4" in rows["interconnect_bandwidth"]["source"]
    assert rows["interconnect_bandwidth"]["cites"] == rows["tdp"]["cites"] == ["nvidia2023nvidia"]
    html = html_of(app)
    listed = section(html, "sources")
    for title in ("ML.ENERGY Leaderboard v3.0", "From Words to Watts"):
        assert title in listed and title not in html.replace(listed, "")


def test_a_derived_input_names_what_it_reads_and_cites_their_sources():
    app = appendix(Request())
    c_tok = next(p for p in R.build_context(app, argv=["tokencalc"], charts=False)["provenance"] if p["key"] == "c_tok")
    assert "from `active_params`, `n_layers`, `context_length`, `d_attn`" in c_tok["source"]
    assert "input_tokens" not in c_tok["source"]  # a read that is not given is not named
    assert "touvron2023llama" in c_tok["cites"] and "Touvron" not in c_tok["source"]
