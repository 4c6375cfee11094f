"""Packaging: the wheel ships profiles and templates; start-up stays light."""

import os
import subprocess
import sys
import sysconfig
import venv
from pathlib import Path


ROOT = Path(__file__).resolve().parent.parent


def test_estimate_never_imports_heavy_modules():
    code = ("import sys\nfrom tokencalc.cli import main\ntry:\n    main(['estimate', '-f', 'json'])\n"
            "except SystemExit:\n    pass\n"
            "heavy = [m for m in ('weasyprint', 'matplotlib', 'numpy', 'jinja2') if m in sys.modules]\n"
            "sys.stderr.write('HEAVY=' + ','.join(heavy))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stderr.strip().endswith("HEAVY="), out.stderr


def test_wheel_installs_and_finds_bundled_profiles(tmp_path):
    dist = tmp_path / "dist"
    subprocess.run([sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", str(dist), str(ROOT)],
                   check=True, capture_output=True, text=True)
    (wheel,) = dist.glob("tokencalc-*.whl")
    import zipfile

    names = zipfile.ZipFile(wheel).namelist()
    assert "tokencalc/profiles/scenarios/default.toml" in names
    assert any(n.startswith("tokencalc/templates/") for n in names)
    assert "tokencalc/units.txt" in names
    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=False)
    py = env_dir / "bin" / "python"
    site = Path(subprocess.run([str(py), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                               capture_output=True, text=True, check=True).stdout.strip())
    # Dependencies come from the test environment (a plain path entry: its .pth files, including the
    # editable install of this checkout, are not processed); only tokencalc itself is installed new.
    (site / "zz_test_deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--no-index", "--target", str(site),
                    str(wheel)], check=True, capture_output=True, text=True)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "TOKENCALC_PROFILES")}
    out = subprocess.run([str(py), "-m", "tokencalc", "profiles", "list", "--format", "json"], cwd=elsewhere,
                         capture_output=True, text=True, env=env)
    assert out.returncode == 0, out.stderr
    assert '"default"' in out.stdout and "<bundled>/scenarios/default.toml" in out.stdout
    where = subprocess.run([str(py), "-c", "import tokencalc; print(tokencalc.__file__)"], cwd=elsewhere,
                           capture_output=True, text=True, env=env)
    assert str(env_dir) in where.stdout, "the installed wheel, not the checkout, must be imported"
    est = subprocess.run([str(py), "-m", "tokencalc", "estimate", "-f", "json"], cwd=elsewhere,
                         capture_output=True, text=True, env=env)
    assert est.returncode == 0, est.stderr
