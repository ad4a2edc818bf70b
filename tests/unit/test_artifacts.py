from venvdeb.wheelhouse.artifacts import choose, python_excluded, versions

RANK = {t: i for i, t in enumerate([
    "cp311-cp311-manylinux_2_36_x86_64", "cp311-cp311-manylinux_2_17_x86_64", "cp311-abi3-manylinux_2_17_x86_64",
    "py3-none-any",
])}


def f(name, sha="0" * 64, requires_python=None, yanked=False, metadata=False):
    return {"filename": name, "url": f"https://files.invalid/{name}", "hashes": {"sha256": sha},
            "requires-python": requires_python, "yanked": yanked, "core-metadata": metadata}


def test_prefers_the_most_specific_compatible_wheel():
    files = [
        f("foo-1.0.tar.gz"),
        f("foo-1.0-py3-none-any.whl"),
        f("foo-1.0-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl", sha="1" * 64, metadata=True),
        f("foo-1.0-cp312-cp312-manylinux_2_17_x86_64.whl"),
        f("foo-1.1-py3-none-any.whl"),
    ]
    a = choose("foo", "1.0", files, RANK, "3.11.2")
    assert a.kind == "wheel" and a.sha256 == "1" * 64 and a.has_metadata


def test_falls_back_to_the_sdist():
    files = [f("foo-1.0-cp312-cp312-manylinux_2_17_x86_64.whl"), f("foo-1.0.zip"), f("foo-1.0.tar.gz", sha="2" * 64)]
    a = choose("foo", "1.0", files, RANK, "3.11.2")
    assert a.kind == "sdist" and a.filename == "foo-1.0.tar.gz"


def test_requires_python_excludes_files():
    files = [f("foo-1.0-py3-none-any.whl", requires_python=">=3.12"), f("foo-1.0.tar.gz", requires_python=">=3.12")]
    assert choose("foo", "1.0", files, RANK, "3.11.2") is None


def test_versions_skip_yanked_and_incompatible():
    files = [f("foo-1.0-py3-none-any.whl"), f("foo-2.0-py3-none-any.whl", yanked=True),
             f("foo-3.0-py3-none-any.whl", requires_python=">=3.13"), f("foo-1.5.tar.gz")]
    assert [str(v) for v in versions(files, "3.11.2")] == ["1.5", "1.0"]


def test_requires_python_that_excludes_the_target_is_the_reason_given():
    files = [{"filename": "django-6.1.3-py3-none-any.whl", "url": "u", "hashes": {"sha256": "a" * 64},
              "requires-python": ">=3.12"},
             {"filename": "django-6.1.3.tar.gz", "url": "u", "hashes": {"sha256": "b" * 64},
              "requires-python": ">=3.12"},
             {"filename": "django-5.2-py3-none-any.whl", "url": "u", "hashes": {"sha256": "c" * 64},
              "requires-python": ">=3.10"}]
    assert choose("django", "6.1.3", files, {"py3-none-any": 0}, "3.11.2") is None
    assert python_excluded("6.1.3", files, "3.11.2") == [">=3.12"]
    assert python_excluded("6.1.3", files, "3.13.5") == []
    assert python_excluded("5.2", files, "3.11.2") == []
