"""Resolve the built wheel's dependencies for other platforms without installing anything.

``python .ci/check_platforms.py WHEEL`` runs, for each platform below, ``pip install --dry-run
--ignore-installed --target DIR --platform P --python-version V --only-binary=:all: WHEEL[tfq]``
and checks what pip would install: TensorFlow everywhere, TensorFlow Quantum exactly where its
wheels exist (Linux x86_64, Python below 3.13), never elsewhere (the ``tfq`` extra must add nothing
there). ``make check-platforms`` builds the wheel and runs this; exit status 1 if any platform fails.
"""

import json
import os
import subprocess
import sys
import tempfile

#: (pip platform tag, Python version, whether TFQ comes with the `tfq` extra there)
PLATFORMS = (
    ("macosx_12_0_arm64", "3.13", False),
    ("win_amd64", "3.13", False),
    ("manylinux2014_aarch64", "3.12", False),
    ("manylinux2014_x86_64", "3.13", False),
    ("manylinux2014_x86_64", "3.12", True),
    ("manylinux2014_x86_64", "3.10", True),
)


def resolve(wheel, platform, python, workdir):
    report = os.path.join(workdir, f"{platform}-{python}.json")
    cmd = [
        sys.executable, "-m", "pip", "install", "-q", "--dry-run", "--ignore-installed",
        "--target", os.path.join(workdir, "target"), "--platform", platform,
        "--python-version", python, "--only-binary=:all:", "--report", report, f"{wheel}[tfq]",
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
        for platform, python, with_tfq in PLATFORMS:
            got, error = resolve(wheel, platform, python, workdir)
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
