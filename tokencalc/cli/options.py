"""Options shared by every command that takes a scenario.

`scenario_options` appends the core-input flags (one per `schema.CORE` key,
named like the scenario keys) and the profile flags to a command's signature,
and hands the command a ready `scenario.Request` instead. One definition, so
`estimate`, `report`, `compare`, ... can never drift apart.
"""

from __future__ import annotations

import functools
import inspect
from typing import Any, Callable, List, Optional

import typer
from typing_extensions import Annotated

from ..resolve import schema as S
from ..resolve.scenario import Request

PANEL_CORE = "Core inputs (override the scenario)"
PANEL_PROFILES = "Profiles"

_CHOICES = {k: f.choices for k, f in S.CORE.items() if f.choices}
ALIASES = {"batch_size": ("--batch",)}  # short spellings users type (--batch 64)


def _core_param(key: str, spec: S.Field) -> inspect.Parameter:
    flag = "--" + key.replace("_", "-")
    help_text = spec.help
    if spec.example:
        help_text += f' (e.g. "{spec.example}")'
    elif spec.choices:
        help_text += f" ({'|'.join(spec.choices)})"
    typ: Any = Optional[str]
    if spec.type == "int":
        typ = Optional[int]
    ann = Annotated[typ, typer.Option(flag, *ALIASES.get(key, ()), help=help_text, rich_help_panel=PANEL_CORE,
                                      show_default=False)]
    return inspect.Parameter(key, inspect.Parameter.KEYWORD_ONLY, default=None, annotation=ann)


def _opt(name: str, typ: Any, default: Any, *flags: str, help: str, panel: str = PANEL_PROFILES) -> inspect.Parameter:
    ann = Annotated[typ, typer.Option(*flags, help=help, rich_help_panel=panel, show_default=False)]
    return inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=default, annotation=ann)


SHARED: list[inspect.Parameter] = [
    _opt("hardware", Optional[str], None, "--hardware", help="hardware profile id or path (replaces the scenario's)"),
    _opt("facility", Optional[str], None, "--facility", help="facility profile id or path"),
    _opt("workload", Optional[str], None, "--workload", help="workload profile id or path"),
    _opt("lever", Optional[List[str]], None, "--lever", help="add a lever profile (repeatable)"),
    _opt("bare", bool, False, "--bare", help="start from an empty scenario: every input from flags"),
    _opt("set_", Optional[List[str]], None, "--set",
         help="override any scenario or profile key: KEY=VALUE, dotted (e.g. facility.pue=1.3); repeatable"),
    _opt("profiles", Optional[List[str]], None, "--profiles",
         help="extra profile folder searched before the bundled ones (repeatable; also TOKENCALC_PROFILES)"),
    _opt("whole_token", bool, False, "--whole-token-levers",
         help="count one-phase levers on the whole token when the workload declares no prefill/decode split"),
    _opt("allow_shift", bool, False, "--allow-operating-point-shift",
         help="count levers even when they break a quality tolerance or the latency SLO"),
] + [_core_param(k, f) for k, f in S.CORE.items()]

SHARED_NAMES = {p.name for p in SHARED}


def request_from(scenario: Optional[str], kw: dict[str, Any]) -> Request:
    """Build a Request from the shared option values (removes them from `kw`)."""
    flags = {}
    for key in S.CORE:
        value = kw.pop(key, None)
        if value is not None:
            flags[key] = str(value)
    refs = {k: kw.pop(k) for k in ("hardware", "facility", "workload") if kw.get(k) is not None}
    for k in ("hardware", "facility", "workload"):
        kw.pop(k, None)
    sets = list(kw.pop("set_", None) or [])
    if kw.pop("allow_shift", False):
        sets.append("allow_operating_point_shift=true")
    if kw.pop("whole_token", False):
        sets.append("whole_token_levers=true")
    return Request(scenario=scenario, bare=kw.pop("bare", False), flags=flags, refs=refs,
                   levers=list(kw.pop("lever", None) or []), sets=sets,
                   profile_dirs=list(kw.pop("profiles", None) or []))


def scenario_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """Decorator: add the shared scenario options; the command receives `request=`.

    The wrapped command must have a `scenario` parameter (the positional
    SCENARIO) and a `request` parameter (filled in here).
    """
    sig = inspect.signature(func, eval_str=True)  # Typer does not re-evaluate a __signature__
    own = [p for p in sig.parameters.values() if p.name != "request"]

    @functools.wraps(func)
    def wrapper(**kw: Any) -> Any:
        req = request_from(kw.get("scenario"), kw)
        return func(request=req, **kw)

    wrapper.__signature__ = sig.replace(parameters=own + SHARED)  # type: ignore[attr-defined]
    return wrapper


def scenario_argument(help: str = "scenario id or path (default: the bundled default scenario)") -> Any:
    """The positional SCENARIO argument."""
    return typer.Argument(help=help, show_default=False)
