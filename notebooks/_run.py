"""Execute tutorial notebooks at their full settings (``make tutorials``) and report wall times.

Each notebook runs with nbclient on an IPython kernel started from this interpreter, in its own
directory under ``OUT`` (default ``artifacts/tutorials``), where it writes its figures and the
executed copy ``executed_<name>.ipynb`` (outputs included; the committed notebooks stay clean).
The notebooks run as committed, with ``QUICK = False``: their full settings. ``--quick`` runs them
with ``QUICK = True`` instead (what the tests do).

Usage:
    python notebooks/_run.py                      # every notebook
    python notebooks/_run.py 07 08                # those whose names start with 07 or 08
    python notebooks/_run.py --out DIR 06
    python notebooks/_run.py --quick 09           # the quick settings
"""

import argparse
import importlib.util
import json
import os
import sys
import tempfile
import time

import nbclient
import nbformat

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


def _kernel_manager(tmp):
    """A KernelManager whose ``python3`` kernel runs ``sys.executable``."""
    from jupyter_client.kernelspec import KernelSpecManager
    from jupyter_client.manager import KernelManager

    spec_dir = os.path.join(tmp, "kernels", "python3")
    os.makedirs(spec_dir)
    with open(os.path.join(spec_dir, "kernel.json"), "w") as f:
        json.dump(
            {
                "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
                "display_name": "tfq_layers",
                "language": "python",
            },
            f,
        )
    ksm = KernelSpecManager(kernel_dirs=[os.path.join(tmp, "kernels")])
    return KernelManager(kernel_name="python3", kernel_spec_manager=ksm)


def _quick(nb):
    spec = importlib.util.spec_from_file_location(
        "notebooks_build", os.path.join(HERE, "_build.py")
    )
    build = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(build)
    return build.quick(nb)


def run(name, out_dir, timeout=3600, quick=False):
    """Execute ``notebooks/name`` in ``out_dir/<stem>``; return its wall time in seconds."""
    work = os.path.join(out_dir, name[: -len(".ipynb")])
    os.makedirs(work, exist_ok=True)
    nb = nbformat.read(os.path.join(HERE, name), as_version=4)
    if quick:
        nb = _quick(nb)
    with tempfile.TemporaryDirectory() as tmp:
        client = nbclient.NotebookClient(
            nb, km=_kernel_manager(tmp), timeout=timeout, resources={"metadata": {"path": work}}
        )
        start = time.perf_counter()
        try:
            client.execute()
        finally:
            nbformat.write(nb, os.path.join(work, "executed_" + name))
        return time.perf_counter() - start


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("prefixes", nargs="*", help="run only notebooks starting with these")
    parser.add_argument("--out", default=os.path.join(ROOT, "artifacts", "tutorials"))
    parser.add_argument("--quick", action="store_true", help="run with QUICK = True")
    args = parser.parse_args(argv)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    os.environ["PYTHONPATH"] = ROOT + os.pathsep + os.environ.get("PYTHONPATH", "")
    names = sorted(
        n
        for n in os.listdir(HERE)
        if n.endswith(".ipynb")
        and (not args.prefixes or any(n.startswith(p) for p in args.prefixes))
    )
    if not names:
        parser.error(f"no notebook matches {args.prefixes}")
    for name in names:
        seconds = run(name, args.out, quick=args.quick)
        settings = "quick settings" if args.quick else "full settings"
        print(
            f"{name}: {seconds:.0f} s ({settings}) -> {os.path.join(args.out, name[:-6])}",
            flush=True,
        )


if __name__ == "__main__":
    main()
