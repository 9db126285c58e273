"""The import-cycle check of ``make lint`` (tests/import_cycles.py) finds cycles and passes here."""

import import_cycles


def _package(tmp_path, files):
    for name, text in files.items():
        path = tmp_path / "pkg" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return import_cycles.import_graph(str(tmp_path), "pkg")


def test_finds_a_cycle_through_a_function_level_import(tmp_path):
    graph = _package(
        tmp_path,
        {
            "__init__.py": "",
            "a.py": "from pkg import b\n",
            "b.py": "def f():\n    from pkg.c import g\n",
            "c.py": "from . import a\n",
        },
    )
    cycles, _ = import_cycles.find_cycles(graph, allowed={})
    assert cycles == [["pkg.a", "pkg.b", "pkg.c", "pkg.a"]]
    # An allowed edge breaks it.
    cycles, _ = import_cycles.find_cycles(graph, allowed={("pkg.c", "pkg.a"): "reason"})
    assert cycles == []


def test_type_checking_imports_count_and_lazy_marks_do_not(tmp_path):
    graph = _package(
        tmp_path,
        {
            "__init__.py": "",
            "a.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from pkg.b import B\n",
            "b.py": "def f():\n    # lazy: an optional dependency\n    from pkg import a\n",
            "c.py": "import pkg.a\n",
        },
    )
    assert graph["pkg.a"] == {"pkg.b": 3}
    assert graph["pkg.b"] == {}
    assert graph["pkg.c"] == {"pkg.a": 1}
    assert import_cycles.find_cycles(graph, allowed={})[0] == []


def test_the_package_has_no_import_cycle():
    assert import_cycles.main([]) == 0
