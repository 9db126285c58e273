"""The package is whole and releasable: one version, one metadata file, licence, typing marker.

Fast checks on the source tree; ``tests/packaging/test_wheel.py`` builds and installs the wheel itself.
"""

import os
import re
import subprocess


import reference

ROOT = reference.ROOT


def _toml():
    return reference.toml_module()


def _text(*parts):
    with open(os.path.join(ROOT, *parts), encoding="utf-8") as f:
        return f.read()


def _pyproject():
    tomllib = _toml()
    with open(os.path.join(ROOT, "pyproject.toml"), "rb") as f:
        return tomllib.load(f)


def test_pyproject_is_the_single_source_of_metadata_and_version():
    project = _pyproject()["project"]
    assert project["name"] == "tfq-layers"
    assert re.fullmatch(r"\d+\.\d+\.\d+", project["version"])
    assert project["requires-python"] == ">=3.10,<3.14"
    assert project["license"] == "Apache-2.0" and project["license-files"] == ["LICENSE"]
    assert project["authors"] and project["urls"]["Source"].startswith("https://")
    assert {"models", "dev"} <= set(project["optional-dependencies"])
    assert not os.path.exists(os.path.join(ROOT, "setup.cfg"))
    # setup.py only lays out packages: no name, version or other metadata in it.
    setup_py = _text("setup.py")
    assert not re.search(r"\b(name|version|install_requires|description)\s*=", setup_py)
    # The version is written nowhere else in the package.
    hits = subprocess.run(
        ["grep", "-rn", "--include=*.py", f'"{project["version"]}"', "tfq_layers", "models"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    ).stdout
    assert hits == "", hits


def test_dependencies_are_ranges_and_tfq_is_an_extra_only_where_its_wheels_exist():
    """Core dependencies are ranges (no pins; exact pins live in constraints.txt), TensorFlow
    Quantum is not among them, and the ``tfq`` extra installs only on Linux x86_64 with Python
    below 3.13 (where TFQ 0.7.6 has wheels), so ``pip install 'tfq-layers[tfq]'`` elsewhere adds
    nothing. The classifiers list every Python that requires-python admits."""
    project = _pyproject()["project"]
    core = {re.match(r"[A-Za-z0-9_.-]+", d).group(0).lower(): d for d in project["dependencies"]}
    assert set(core) == {"tensorflow", "keras", "cirq-core", "sympy", "numpy"}, core
    for spec in core.values():
        assert "==" not in spec and ">=" in spec and "<" in spec, spec
    tfq = project["optional-dependencies"]["tfq"]
    assert any(d.startswith("tensorflow-quantum==") for d in tfq), tfq
    for requirement in tfq:
        _, marker = requirement.split(";", 1)
        for words in (
            "sys_platform == 'linux'",
            "platform_machine == 'x86_64'",
            "python_version < '3.13'",
        ):
            assert words in marker, (words, requirement)
    pythons = {
        c.rsplit(" ", 1)[1] for c in project["classifiers"] if re.search(r"Python :: 3\.\d+$", c)
    }
    assert pythons == {"3.10", "3.11", "3.12", "3.13"}, pythons


def test_version_attribute_reads_pyproject():
    import tfq_layers

    assert tfq_layers.__version__ == _pyproject()["project"]["version"]


def test_release_files():
    version = _pyproject()["project"]["version"]
    license_text = _text("LICENSE")
    assert "Apache License" in license_text and "Version 2.0, January 2004" in license_text
    assert "END OF TERMS AND CONDITIONS" in license_text
    assert os.path.exists(os.path.join(ROOT, "tfq_layers", "py.typed"))
    changelog = _text("CHANGELOG.md")
    assert f"## {version}" in changelog or "## Unreleased" in changelog
    citation = _text("CITATION.cff")
    assert re.search(rf"^version: {re.escape(version)}$", citation, re.M)
    source = _pyproject()["project"]["urls"]["Source"]
    assert f'repository-code: "{source}"' in citation


def test_setup_py_ships_every_subpackage_and_the_zoo():
    code = (
        "import setuptools, json, sys\n"
        "captured = {}\n"
        "setuptools.setup = lambda **kw: captured.update(kw)\n"
        "exec(open('setup.py').read())\n"
        "print(json.dumps(captured))\n"
    )
    out = reference.run_python(code)
    import json

    layout = json.loads(out)
    on_disk = {
        os.path.relpath(dirpath, ROOT).replace(os.sep, ".")
        for dirpath, _, files in os.walk(os.path.join(ROOT, "tfq_layers"))
        if "__init__.py" in files
    }
    assert on_disk | {"tfq_layers.zoo"} == set(layout["packages"])
    assert layout["package_dir"] == {"tfq_layers.zoo": "models"}


def test_recipes_import_each_other_relatively():
    """models/ is also tfq_layers.zoo in the wheel: code must not name the package `models`."""
    offenders = []
    for name in sorted(os.listdir(os.path.join(ROOT, "models"))):
        if not name.endswith(".py"):
            continue
        for number, line in enumerate(_text("models", name).splitlines(), 1):
            code = line.split("#")[0]
            if re.match(r"\s*(from|import)\s+models\b", code):
                offenders.append(f"models/{name}:{number}: {line.strip()}")
    assert offenders == []
