"""Resolve the built wheel's dependencies for other platforms without installing anything.

``python .ci/check_platforms.py WHEEL`` checks, for each platform below, what ``pip install
'WHEEL[tfq]'`` would install there: TensorFlow everywhere, TensorFlow Quantum exactly where its
wheels exist (Linux x86_64, Python below 3.13) and nothing of it elsewhere.

pip's ``--platform``/``--python-version`` choose wheels for the target but evaluate environment
markers against the running interpreter, so the ``tfq`` extra's markers are evaluated here for
the target (with ``packaging``, as the target's pip would), and the requirements they keep are
passed to ``pip install --dry-run --ignore-installed --target DIR --platform P --python-version V
--only-binary=:all: WHEEL ...``. ``make check-platforms`` builds the wheel and runs this; exit
status 1 if any platform fails.
"""

import email
import json
import os
import subprocess
import sys
import tempfile
import zipfile

from packaging.requirements import Requirement

#: (pip platform tag, Python version, sys.platform, platform.machine(), whether TFQ comes there)
PLATFORMS = (
    ("macosx_12_0_arm64", "3.13", "darwin", "arm64", False),
    ("win_amd64", "3.13", "win32", "AMD64", False),
    ("manylinux2014_aarch64", "3.12", "linux", "aarch64", False),
    ("manylinux2014_x86_64", "3.12", "linux", "x86_64", True),
    ("manylinux2014_x86_64", "3.10", "linux", "x86_64", True),
)


def tfq_extra(wheel, python, sys_platform, machine):
    """The ``tfq`` extra's requirements that apply on the target, markers removed."""
    with zipfile.ZipFile(wheel) as z:
        name = next(n for n in z.namelist() if n.endswith(".dist-info/METADATA"))
        metadata = email.message_from_bytes(z.read(name))
    env = {
        "python_version": python,
        "python_full_version": python + ".0",
        "sys_platform": sys_platform,
        "platform_machine": machine,
        "platform_system": {"darwin": "Darwin", "win32": "Windows"}.get(sys_platform, "Linux"),
        "os_name": "nt" if sys_platform == "win32" else "posix",
        "extra": "tfq",
    }
    kept = []
    for line in metadata.get_all("Requires-Dist") or []:
        req = Requirement(line)
        if req.marker is not None and "extra" in str(req.marker) and req.marker.evaluate(env):
            req.marker = None
            kept.append(str(req))
    return kept


def resolve(wheel, platform, python, extra, workdir):
    report = os.path.join(workdir, f"{platform}-{python}.json")
    cmd = [
        sys.executable, "-m", "pip", "install", "-q", "--dry-run", "--ignore-installed",
        "--target", os.path.join(workdir, "target"), "--platform", platform,
        "--python-version", python, "--only-binary=:all:", "--report", report, wheel, *extra,
    ]  # fmt: skip
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode:
        return None, done.stderr.strip().splitlines()[-1:]
    with open(report, encoding="utf-8") as f:
        items = json.load(f)["install"]
    return {i["metadata"]["name"].lower(): i["metadata"]["version"] for i in items}, []


def main(wheel):
    failed = 0
    with tempfile.TemporaryDirectory() as workdir:
        for platform, python, sys_platform, machine, with_tfq in PLATFORMS:
            extra = tfq_extra(wheel, python, sys_platform, machine)
            got, error = resolve(wheel, platform, python, extra, workdir)
            if got is None:
                print(f"FAIL {platform}, Python {python}: does not resolve: {error}")
                failed += 1
                continue
            tfq = got.get("tensorflow-quantum")
            ok = "tensorflow" in got and (tfq is not None) == with_tfq
            failed += not ok
            print(
                f"{'ok  ' if ok else 'FAIL'} {platform}, Python {python}: tensorflow "
                f"{got.get('tensorflow')}, keras {got.get('keras')}, cirq-core "
                f"{got.get('cirq-core')}, tensorflow-quantum {tfq or '-'}"
            )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
