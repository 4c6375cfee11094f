"""Validate the serving model against the ML.ENERGY Leaderboard v3.0 subset.

    python bench/validate_mlenergy.py [DATA_DIR]      (or MLENERGY_DATA; the leaderboard's public/data folder)

For every LLM row the model describes, predicts deployment throughput and J per output token (GPU
boundary) from the architecture, the hardware's datasheet and its fitted `[serving]` parameters in
profiles/hardware/*.toml (no measurement of the row is used), and prints the median and p90 absolute
percentage error per hardware x task: in-sample (the bundled parameters, fitted on all rows) and
leave-one-model-out (each architecture family's rows predicted by parameters refitted without them).
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import fit_mlenergy as F  # noqa: E402
import mlenergy as M  # noqa: E402


def table(rows, preds, title: str) -> None:
    print(f"\n{title}")
    print(f"  {'hardware':9s} {'task':16s} {'rows':>4s} | {'tok/s median':>12s} {'p90':>7s} | "
          f"{'J/tok median':>12s} {'p90':>7s}")
    groups = sorted({(r.gpu, r.task) for r in rows}) + sorted({(r.gpu, "all") for r in rows}) + [("all", "all")]
    for gpu, task in groups:
        idx = [i for i, r in enumerate(rows) if gpu in ("all", r.gpu) and task in ("all", r.task)]
        tp = [M.ape(preds[i][0], rows[i].throughput) for i in idx]
        e = [M.ape(preds[i][1], rows[i].e_tok) for i in idx]
        print(f"  {gpu:9s} {task:16s} {len(idx):4d} | {M.pct(tp, 50):11.1f}% {M.pct(tp, 90):6.0f}% | "
              f"{M.pct(e, 50):11.1f}% {M.pct(e, 90):6.0f}%")


def by_model(rows, preds) -> None:
    print("\nLeave-one-model-out, per model (median APE throughput / J per token)")
    for gpu, model in sorted({(r.gpu, r.model) for r in rows}):
        idx = [i for i, r in enumerate(rows) if r.gpu == gpu and r.model == model]
        tp = [M.ape(preds[i][0], rows[i].throughput) for i in idx]
        e = [M.ape(preds[i][1], rows[i].e_tok) for i in idx]
        print(f"  {gpu:5s} {model:52s} {len(idx):3d} rows  {M.pct(tp, 50):6.1f}%  {M.pct(e, 50):6.1f}%")


def main() -> None:
    data = M.data_dir(sys.argv)
    arches = M.load_architectures()
    rows, skipped = M.load_rows(data, arches)
    sheets = M.all_sheets(rows)
    params = {gpu: M.profile_params(gpu) for gpu in sorted({r.gpu for r in rows})}
    missing = [gpu for gpu, p in params.items() if len(p) < len(M.PARAMS)]
    if missing:
        sys.exit(f"no complete [serving] table in the hardware profile of {missing}: run bench/fit_mlenergy.py")
    print(f"ML.ENERGY Leaderboard v3.0 subset: {len(rows)} LLM rows; left out: " + "; ".join(skipped))
    print("Prompt tokens assumed per task: " + ", ".join(f"{t} {n}" for t, n in M.PROMPT_TOKENS.items()))
    preds = [M.predict(r, arches, params[r.gpu], sheets)[:2] for r in rows]
    table(rows, preds, "In-sample (bundled [serving] parameters, fitted on all rows of the hardware)")
    held = F.lomo(rows, arches, sheets)
    lomo = [held[i] for i in range(len(rows))]
    table(rows, lomo, "Leave-one-model-out (each architecture family predicted by a fit without it)")
    by_model(rows, lomo)


if __name__ == "__main__":
    main()
