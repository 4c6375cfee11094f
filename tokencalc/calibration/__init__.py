"""Calibration from measurements: power logs + token counts -> measured inputs.

Pure functions, no printing, no file writing. The modules, in the order
`tokencalc calibrate` uses them:

- :mod:`.clock`: :class:`Clock` (one convention for zone-less times), :class:`Window`,
  window bounds (:func:`parse_time`) and ``--utc-offset``;
- :mod:`.samples`: the measured series (:class:`Channel`, :class:`Device`,
  :class:`PowerLog`), reading input files and their SHA-256;
- :mod:`.nvsmi`: the ``nvidia-smi --query-gpu=... --format=csv`` parser (with or
  without ``nounits``);
- :mod:`.dcgm`: the dcgm-exporter parser (Prometheus text, many scrapes concatenated);
- :mod:`.logs`: either format (sniffed), and the devices of several files merged;
- :mod:`.bench`: token counts from a vLLM ``benchmark_serving.py`` / ``vllm bench
  serve`` result JSON, or from ``--tokens``;
- :mod:`.window`: the run window (``--start/--end``, the bench file, or the span
  every device covers) and the idle window;
- :mod:`.integrate`: each device over the window: the energy counter delta when
  the device has one, else the trapezoid rule on power;
- :mod:`.reference`: c_tok, the peak at the precision and TDP, resolved like every
  command's inputs;
- :mod:`.estimators`: :func:`calibrate` sums devices, subtracts idle power if asked
  (reported separately), and takes e_tok, realized K_eff, η_K, η_E from the core
  (docs/model.md §11), U from the SM activity;
- :mod:`.energy`: instead of power logs, the energy reports serving stacks write (vLLM,
  SGLang, TensorRT-LLM, TGI, an ML.ENERGY run), each recognised by its keys;
  :mod:`.reported` turns one into the same result through the same estimators;
- :mod:`.fragment`: the result as a workload profile with a ``[measured]`` table and
  provenance (text; the command writes it);
- :mod:`.nvml`: NVML sampling while a command runs (`tokencalc measure`);
- :mod:`.run`: the entry points, ``run.run(...)`` (`calibrate`) and ``run.measured(...)``
  (`measure`), returning a :class:`Calibration`. They are not re-exported here, so
  the name ``run`` keeps meaning the module.

Recoverable oddities (``[N/A]`` readings, duplicate timestamps, gaps, a window the
data does not fully cover, counter resets) become warnings that are counted and
returned; malformed input raises :class:`~tokencalc.errors.InputError` naming the
file and line.
"""

from .bench import Bench, read_bench, token_count
from .clock import Clock, Window, parse_time, parse_utc_offset
from .dcgm import DCGM_METRICS, parse_dcgm
from .energy import FORMATS as ENERGY_FORMATS, EnergyReport, read_energy
from .estimators import SCHEMA, calibrate, estimators
from .fragment import profile_fragment
from .integrate import GAP_FACTOR, DeviceResult, integrate_device, median_interval, trapezoid
from .logs import merge_devices, read_power_log, sniff_format
from .nvsmi import parse_nvidia_smi, parse_nvsmi_timestamp
from .reference import Reference, resolve_reference
from .run import Calibration
from .samples import ENERGY, GPU_UTIL, POWER, SM_ACTIVE, Channel, Device, PowerLog, sha256_of
from .window import data_span, parse_idle_window, resolve_window

__all__ = [
    "DCGM_METRICS", "ENERGY", "ENERGY_FORMATS", "GAP_FACTOR", "GPU_UTIL", "POWER", "SCHEMA", "SM_ACTIVE", "Bench", "Calibration",
    "Channel", "Clock", "Device", "DeviceResult", "EnergyReport", "PowerLog", "Reference", "Window", "calibrate", "data_span",
    "estimators", "integrate_device", "median_interval", "merge_devices", "parse_dcgm", "parse_idle_window",
    "parse_nvidia_smi", "parse_nvsmi_timestamp", "parse_time", "parse_utc_offset", "profile_fragment",
    "read_bench", "read_energy", "read_power_log", "resolve_reference", "resolve_window", "sha256_of", "sniff_format",
    "token_count", "trapezoid",
]
