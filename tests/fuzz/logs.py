"""Calibration inputs: nvidia-smi CSV logs, dcgm-exporter scrapes and vLLM bench results, mutated.

Each log is first drawn well-formed (a few GPUs, a regular interval, an optional idle
lead-in), then mutated line by line the way real logs go wrong: rows out of order, a
missing cell, a unit where none was, NaN / +Inf readings, a counter that resets,
labels that do not parse, timestamps from year 1 or 9999, bytes that are not UTF-8.
"""

from __future__ import annotations

import datetime as _dt
import json

from hypothesis import strategies as st

from . import values as V

BASE = _dt.datetime(2024, 5, 1, 11, 59, 55)
NVSMI_EXTRA = ["utilization.gpu [%]", "uuid", "pci.bus_id", "name", "temperature.gpu", "power.limit [W]"]
POWER_COLS = ["power.draw [W]", "power.draw [W]", "power.draw.average [W]", "power.draw.instant [W]"]
CELL_JUNK = ["[N/A]", "[Not Supported]", "nan", "NaN W", "inf", "-inf W", "-5 W", "1e308 W", "1e309", "", " ", "W",
             "300,5 W", "３００ W", "300 mW", "0x12C", "300.00 W W", "\x00", "1e-320 W"]
TS_JUNK = ["0001/01/01 00:00:00.000", "9999/12/31 23:59:59.999", "2024/02/30 12:00:00.000", "2024-05-01T12:00:00",
           "2024/05/01 25:00:00.000", "2024/05/01 12:00:00.0000000001", "", "now", "2024/05/01 12:00:60.000"]


def _stamp(t: float) -> str:
    return (BASE + _dt.timedelta(seconds=t)).strftime("%Y/%m/%d %H:%M:%S.%f")[:-3]


@st.composite
def nvidia_smi(draw) -> bytes:
    """An nvidia-smi `--query-gpu=timestamp,index,power.draw,...` log, well-formed or mutated."""
    units = draw(st.booleans())
    extra = draw(st.lists(st.sampled_from(NVSMI_EXTRA), unique=True, max_size=2))
    header = ["timestamp", "index", draw(st.sampled_from(POWER_COLS))] + extra
    gpus = draw(st.integers(1, 4))
    step = draw(st.sampled_from([0.1, 0.5, 1.0, 1.0, 2.0]))
    n = draw(st.integers(0, 60))
    lines = [", ".join(header)]
    for i in range(n):
        for g in range(gpus):
            power = draw(st.floats(50, 700).map(lambda x: round(x, 2)))
            cells = [_stamp(i * step), str(g), f"{power:.2f} W" if units else f"{power:.2f}"]
            for col in extra:
                cells.append({"utilization.gpu [%]": f"{draw(st.integers(0, 100))}{' %' if units else ''}",
                              "uuid": f"GPU-{g:04d}", "pci.bus_id": f"00000000:{g:02X}:00.0", "name": "NVIDIA H100",
                              "temperature.gpu": "55", "power.limit [W]": "700.00 W" if units else "700.00"}[col])
            lines.append(", ".join(cells))
    return draw(_mutate_lines(lines, _nvsmi_mutation))


def _nvsmi_mutation(line: str) -> st.SearchStrategy[str]:
    cells = line.split(", ")
    return st.one_of(
        st.integers(0, len(cells) - 1).flatmap(
            lambda i: st.sampled_from(CELL_JUNK).map(lambda j: ", ".join(cells[:i] + [j] + cells[i + 1:]))),
        st.sampled_from(TS_JUNK).map(lambda ts: ", ".join([ts] + cells[1:])),
        st.just(", ".join(cells[:-1])), st.just(line + ", 1"), st.just(line.replace(", ", ",")),
        st.just("# a comment"), st.just(""), st.just(", ".join(cells[::-1])))


@st.composite
def _mutate_lines(draw, lines: list[str], mutation) -> bytes:
    """Apply 0-3 line mutations, then maybe a file-level one (order, encoding, line ends)."""
    lines = list(lines)
    for _ in range(draw(st.sampled_from([0, 1, 1, 2, 3])) if V.hostile_case() else 0):
        if not lines:
            break
        i = draw(st.integers(0, len(lines) - 1))
        lines[i] = draw(mutation(lines[i]))
    whole = draw(V.mixed(st.sampled_from(["none", "none", "bom", "crlf", "dup"]),
                         st.sampled_from(["swap", "binary", "truncate", "header2"])))
    if whole == "swap" and len(lines) > 3:
        lines[1], lines[-1] = lines[-1], lines[1]
    elif whole == "dup" and len(lines) > 1:
        lines.insert(2, lines[1])
    elif whole == "header2" and lines:
        lines.insert(len(lines) // 2, lines[0])
    text = "\n".join(lines) + "\n"
    blob = text.encode("utf-8")
    if whole == "bom":
        return b"\xef\xbb\xbf" + blob
    if whole == "crlf":
        return blob.replace(b"\n", b"\r\n")
    if whole == "binary":
        return blob[: len(blob) // 3] + b"\xff\xfe\x00\x80" + blob[len(blob) // 3:]
    if whole == "truncate":
        return blob[: len(blob) // 2]
    return blob


LABELS = 'gpu="{g}",UUID="GPU-{g:04d}",device="nvidia{g}",modelName="NVIDIA H100 80GB HBM3",Hostname="node-1"'
DCGM_JUNK = ["NaN", "+Inf", "-Inf", "-1", "1e308", "1e309", "", "x", "0x10", "1_000"]


@st.composite
def dcgm(draw) -> bytes:
    """dcgm-exporter scrapes: `# scrape at` lines or Prometheus timestamps, power, energy counter, SM activity."""
    timing = draw(st.sampled_from(["scrape-at", "timestamps", "none"]))
    metrics = draw(st.lists(st.sampled_from(["POWER", "ENERGY", "SM"]), unique=True, min_size=1, max_size=3))
    gpus, n = draw(st.integers(1, 3)), draw(st.integers(0, 30))
    step = draw(st.sampled_from([1.0, 1.0, 5.0, 0.5]))
    lines: list[str] = []
    for i in range(n):
        t = BASE + _dt.timedelta(seconds=5 + i * step)
        if timing == "scrape-at":
            lines.append(f"# scrape at {t.isoformat()}Z")
        ms = f" {int(t.replace(tzinfo=_dt.timezone.utc).timestamp() * 1000)}" if timing == "timestamps" else ""
        for metric in metrics:
            lines.append(f"# TYPE DCGM_FI_{'DEV_POWER_USAGE' if metric == 'POWER' else metric} gauge")
            for g in range(gpus):
                label = LABELS.format(g=g)
                if metric == "POWER":
                    lines.append(f"DCGM_FI_DEV_POWER_USAGE{{{label}}} {draw(st.floats(50, 700)):.3f}{ms}")
                elif metric == "ENERGY":
                    lines.append(f"DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION{{{label}}} {10**9 + i * 300_000 * (g + 1)}{ms}")
                else:
                    lines.append(f"DCGM_FI_PROF_SM_ACTIVE{{{label}}} {draw(st.floats(0, 1)):.6f}{ms}")
    return draw(_mutate_lines(lines, _dcgm_mutation))


def _dcgm_mutation(line: str) -> st.SearchStrategy[str]:
    if line.startswith("#"):
        return st.sampled_from(["# scrape at tomorrow", "# scrape at 0001-01-01T00:00:00Z", "# scrape at 9999-12-31T23:59:59",
                                "# scrape at 2024-05-01T12:00:00+25:00", line + "x", "#", "# scrape at "])
    name, _, rest = line.partition("{")
    labels, _, tail = rest.partition("}")
    parts = tail.split()
    value = parts[0] if parts else "0"
    ts = parts[1] if len(parts) > 1 else ""
    return st.one_of(
        st.sampled_from(DCGM_JUNK).map(lambda v: f"{name}{{{labels}}} {v} {ts}".rstrip()),
        st.sampled_from(["99999999999999999999", "-1", "0", "1e30", "x"]).map(lambda t: f"{name}{{{labels}}} {value} {t}"),
        st.just(f"{name}{{{labels}}}"), st.just(f"{name}{{{labels} {value}"), st.just(f"{name}{{gpu=0}} {value}"),
        st.just(f'{name}{{gpu="0",gpu="1"}} {value}'), st.just(f"{name} {value}"), st.just(f'{name}{{UUID="x"}} {value}'),
        st.just(f"{name}{{{labels}}} {value} {ts} extra"))


@st.composite
def bench(draw) -> bytes:
    """A vLLM benchmark_serving result: token totals, duration, date; mutated or not JSON at all."""
    data: dict = {"date": "20240501-120010", "backend": "vllm", "model_id": "meta-llama/Llama-3.1-8B-Instruct",
                  "duration": 10.0, "completed": 100, "total_input_tokens": 9000, "total_output_tokens": 4500}
    for _ in range(draw(st.sampled_from([1, 1, 2])) if V.hostile_case() else 0):
        key = draw(st.sampled_from(sorted(data)))
        data[key] = draw(st.one_of(
            st.sampled_from([float("nan"), float("inf"), -1, 0, 1.5, 10**30, "x", None, True, [], {}, 1e308]),
            st.sampled_from(["20241301-000000", "00000101-000000", "99991231-235959", "2024-05-01 12:00:10", ""])))
    if V.hostile_case() and draw(st.integers(0, 5)) == 0:
        data.pop(draw(st.sampled_from(sorted(data))))
    text = json.dumps(data)  # NaN and Infinity as Python writes them
    mode = draw(V.mixed(st.just("ok"), st.sampled_from(["trailing", "list", "deep", "binary"])))
    if mode == "trailing":
        text = text[:-1] + ",}"
    elif mode == "list":
        text = "[" + text + "]"
    elif mode == "deep":
        text = '{"duration": ' + "[" * 100_000 + "]" * 100_000 + "}"
    elif mode == "binary":
        return text.encode()[:10] + b"\xff\xfe"
    return text.encode()
