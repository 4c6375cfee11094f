"""Profile documents of every kind, drawn from the schema: valid-looking, mutated, or hostile bytes.

A valid-looking document takes each key from `tokencalc.resolve.schema.KIND_SPECS` with a
value the key accepts. A mutated one then changes one to three things: a hostile value,
an unknown key, a table where a value belongs (or the reverse), the wrong `kind`, no
`name`. Hostile bytes break the TOML itself (`toml.hostile`).
"""

from __future__ import annotations

import datetime as _dt
from pathlib import Path

from functools import lru_cache

from hypothesis import strategies as st

cache = lru_cache(maxsize=None)  # strategies are built once per argument set: drawing is the cost

from tokencalc.resolve import schema as S

from . import toml, values as V

ROOT = Path(__file__).resolve().parents[2]
BUNDLED = {kind: sorted(p.stem for p in (ROOT / "profiles" / S.FOLDERS[kind]).glob("*.toml")) for kind in S.KINDS}
PRECISIONS = ["bf16", "fp16", "fp8", "fp4", "int8", "tf32", "fp32", "fp64"]
BENCHMARKS = ["mmlu", "gsm8k", "humaneval", "ünïcödé", "a.b", ""]
# Keys a valid-looking document of each kind draws from, beyond kind and name.
CORE_SCENARIO_KEYS = ["k_eff", "c_tok", "e_tok", "p_it", "p_facility", "pue", "utilization", "devices", "horizon",
                      "throughput_per_device", "kernel_efficiency", "availability", "device_power", "e_tok_boundary",
                      "it_overhead", "cooling_capacity", "electricity_price", "carbon_intensity", "precision",
                      "peak_flops", "token_basis", "input_output_ratio", "binding_tolerance"]


@cache
def refs_for(kind: str, local: tuple[str, ...] | None = None) -> st.SearchStrategy[str]:
    """A reference to a profile of `kind`: a bundled id, a local file, or one that does not resolve."""
    bundled = st.sampled_from(BUNDLED[kind])
    good = st.one_of(bundled, bundled, st.sampled_from(local)) if local else bundled
    return V.mixed(good, st.sampled_from(["nope", "h100", "./missing.toml", "/dev/null", "", " ", "../x.toml", "a" * 300,
                                          "prof/hardware", "h100-sxm.toml"]), 6)


@cache
def leaf(spec: S.Field, name: str, valid: bool = True, refs: tuple[str, ...] | None = None) -> st.SearchStrategy[object]:
    """A TOML value for one schema leaf."""
    t = spec.type
    if t == "quantity":
        return V.valid_quantity_toml(spec, name) if valid else V.hostile_quantity_toml(spec, name)
    if t == "int":
        return V.valid_count(name) if valid else V.hostile_count()
    if t == "bool":
        return st.booleans() if valid else st.sampled_from(["true", 1, 0, "yes", [True]])
    if t == "date":
        return st.dates(_dt.date(2000, 1, 1), _dt.date(2040, 1, 1)) if valid else st.sampled_from(
            ["2024-02-30", "tomorrow", 20240101, "0001-01-01", _dt.date(9999, 12, 31)])
    if t in ("ref", "refs"):
        one = refs_for(spec.ref_kind or "hardware", refs) if valid else st.one_of(st.integers(), st.just(""),
                                                                                  V.plain_text(20))
        return one if t == "ref" else st.lists(one, max_size=3, unique=True)
    if spec.choices:
        return st.sampled_from(list(spec.choices)) if valid else V.choice_value(spec.choices)
    if name == "precision":
        return st.sampled_from(PRECISIONS) if valid else V.choice_value(None)
    return V.plain_text() if not valid else st.from_regex(r"[A-Za-z0-9 .,()-]{1,30}", fullmatch=True)


@st.composite
def table(draw, fields: dict, prefix: str = "", refs: tuple[str, ...] | None = None) -> dict:
    """A valid-looking table: a random subset of `fields`, each with a value it accepts."""
    keys = draw(st.lists(st.sampled_from(sorted(fields)), unique=True, max_size=len(fields))) if fields else []
    out: dict = {}
    for k in keys:
        spec = fields[k]
        if isinstance(spec, S.Field):
            out[k] = draw(leaf(spec, k, True, refs))
        elif isinstance(spec, S.Table):
            out[k] = draw(table(spec.fields, f"{prefix}{k}.", refs))
        elif isinstance(spec, S.MapOf):
            names = PRECISIONS if k == "peak_flops" else BENCHMARKS[:3]
            chosen = draw(st.lists(st.sampled_from(names), unique=True, min_size=1, max_size=3))
            item = spec.item
            out[k] = {n: (draw(table(item.fields)) if isinstance(item, S.Table) else draw(leaf(item, k, True, refs)))
                      for n in chosen}
    return out


@cache
def sources() -> st.SearchStrategy[dict]:
    """`[sources]`: citation strings and tables, sometimes broken."""
    cite = st.one_of(V.plain_text(40).filter(lambda s: s.strip()),
                     st.fixed_dictionaries({"title": V.plain_text(30)},
                                           optional={"author": V.plain_text(20), "year": st.sampled_from(["2024", 2024]),
                                                     "url": st.sampled_from(["https://example.org", "javascript:x",
                                                                             "file:///etc/passwd"]),
                                                     "note": V.plain_text(20)}))
    broken = st.one_of(st.just(""), st.just({"author": "x"}), st.just({"title": "t", "doi": "x"}), st.integers(),
                       st.lists(st.text(), max_size=2))
    keys = st.sampled_from(["default", "tdp", "pue", "model", "measured.e_tok", "peak_flops", "ünï", "a.b.c"])
    return st.dictionaries(keys, V.mixed(cite, broken), max_size=4)


@st.composite
def document(draw, kind: str, refs: dict[str, tuple[str, ...]] | None = None) -> dict:
    """A valid-looking document of `kind` (references may point to bundled ids or to files in `refs`)."""
    refs = refs or {}
    doc: dict = {"kind": kind, "name": draw(st.from_regex(r"[A-Za-z0-9 .,()-]{1,30}", fullmatch=True))}
    if kind == "scenario":
        doc.update(draw(scenario_body(refs)))
    else:
        fields = {k: v for k, v in S.KIND_SPECS[kind].items() if k not in S.COMMON}
        doc.update(draw(table(fields, "", refs.get("lever"))))
    if draw(st.booleans()):
        doc["sources"] = draw(sources())
    if draw(st.integers(0, 4)) == 0:
        doc["description"] = draw(V.plain_text(80))
    return doc


@st.composite
def scenario_body(draw, refs: dict[str, tuple[str, ...]]) -> dict:
    """A scenario's keys: profile references and/or core inputs, `[override]` and `[trajectory]`."""
    from . import specs

    body: dict = {}
    style = draw(st.sampled_from(["profiles", "profiles", "core", "mixed"]))
    if style in ("profiles", "mixed"):
        for kind in ("hardware", "facility", "workload"):
            if draw(st.integers(0, 5)):
                body[kind] = draw(refs_for(kind, refs.get(kind)))
        body["devices"] = draw(V.valid_count())
        if draw(st.booleans()):
            body["levers"] = draw(st.lists(refs_for("lever", refs.get("lever")), max_size=3, unique=True))
    core = ["k_eff", "c_tok", "e_tok", "p_it"] if style == "core" else []
    core += draw(st.lists(st.sampled_from(CORE_SCENARIO_KEYS), unique=True, max_size=5))
    for k in dict.fromkeys(core):
        body[k] = draw(leaf(S.CORE[k], k, True))
    if draw(st.integers(0, 3)) == 0:
        body["start_date"] = draw(leaf(S.SCENARIO["start_date"], "start_date"))
    for flag in ("allow_operating_point_shift", "whole_token_levers"):
        if draw(st.integers(0, 6)) == 0:
            body[flag] = draw(st.booleans())
    if draw(st.integers(0, 3)) == 0:
        body["override"] = dict(draw(st.lists(specs.dotted_assignment(toml_value=True), max_size=3)))
    if draw(st.integers(0, 3)) == 0:
        body["trajectory"] = dict(draw(st.lists(specs.trajectory_entry(), min_size=1, max_size=3)))
    return body


@st.composite
def mutate(draw, doc: dict, kind: str) -> dict:
    """One to three hostile changes to a valid-looking document."""
    doc = dict(doc)
    fields = S.KIND_SPECS[kind]
    for _ in range(draw(st.integers(1, 3))):
        what = draw(st.sampled_from(["value", "value", "value", "unknown", "shape", "kind", "name", "nested"]))
        if what == "value":
            leaves = [k for k, v in fields.items() if isinstance(v, S.Field) and k not in ("kind",)]
            k = draw(st.sampled_from(leaves))
            doc[k] = draw(leaf(fields[k], k, valid=False))
        elif what == "unknown":
            known = sorted(fields)
            k = draw(st.one_of(st.sampled_from(known).map(lambda x: x[:-1] + "x"), V.plain_text(12)))
            doc[k if k not in fields else k + "_"] = draw(st.one_of(st.integers(), st.text(max_size=5)))
        elif what == "shape":
            tables = [k for k, v in fields.items() if not isinstance(v, S.Field)]
            k = draw(st.sampled_from(tables))
            doc[k] = draw(st.one_of(st.text(max_size=5), st.integers(), st.lists(st.integers(), max_size=2),
                                    st.just({"x": {"y": {"z": 1}}})))
        elif what == "kind":
            doc["kind"] = draw(st.one_of(st.sampled_from([k for k in S.KINDS if k != kind] + ["hardwre", ""]),
                                         st.integers(), V.plain_text(30)))
        elif what == "name":
            doc.pop("name", None) if draw(st.booleans()) else doc.update(name=draw(st.one_of(st.integers(), st.just(""))))
        else:
            doc[draw(st.sampled_from(sorted(fields)))] = {"a": {"b": {"c": [[[]]]}}}
    return doc


@st.composite
def profile_bytes(draw, kind: str, refs: dict[str, tuple[str, ...]] | None = None) -> bytes:
    """The bytes of a profile file: valid-looking (most), mutated, or hostile TOML."""
    doc = draw(document(kind, refs))
    mode = draw(st.sampled_from(["mutated"] * 3 + ["hostile"])) if V.hostile_case() and draw(st.booleans()) else "valid"
    if mode == "mutated":
        doc = draw(mutate(doc, kind))
    text = toml.dumps(doc)
    if mode == "hostile":
        return draw(toml.hostile(text))
    return text.encode("utf-8")
