import pytest

from venvdeb.model.constraints import parse
from venvdeb.errors import VenvdebError

ENV_311 = {"python_version": "3.11", "python_full_version": "3.11.2", "sys_platform": "linux",
           "platform_system": "Linux", "platform_machine": "x86_64", "implementation_name": "cpython",
           "platform_python_implementation": "CPython", "os_name": "posix", "extra": ""}


def test_upper_constraints_with_markers():
    text = (
        "# comment\n"
        "Babel===2.17.0\n"
        "futures===3.0.5;python_version=='2.7'\n"
        "oslo.config===10.0.0\n"
        "numpy===1.26.4;python_version<'3.12'\n"
        "numpy===2.2.6;python_version>='3.12'\n"
    )
    cons = parse(text, "uc.txt")
    pins = cons.for_target(ENV_311)
    assert pins["babel"].version == "2.17.0"
    assert pins["oslo-config"].version == "10.0.0"  # names are canonical
    assert pins["numpy"].version == "1.26.4"
    assert "futures" not in pins
    assert pins["numpy"].line == 5


def test_pip_compile_lock_with_hashes_and_continuations():
    text = (
        "alembic==1.16.4 \\\n"
        "    --hash=sha256:aaaa \\\n"
        "    --hash=sha256:bbbb\n"
        "    # via nova\n"
        "six==1.17.0  # via x\n"
    )
    pins = parse(text, "lock.txt").for_target(ENV_311)
    assert pins["alembic"].hashes == frozenset({"aaaa", "bbbb"})
    assert pins["alembic"].line == 1
    assert pins["six"].version == "1.17.0" and pins["six"].hashes == frozenset()


def test_range_is_not_a_pin():
    with pytest.raises(VenvdebError) as exc:
        parse("six>=1.0\nfoo===1\n-r other.txt\n", "uc.txt")
    message = str(exc.value)
    assert "uc.txt:1" in message and "not an exact pin" in message
    assert "uc.txt:3" in message and "not supported" in message


def test_two_pins_for_one_target_are_an_error():
    cons = parse("six===1.16.0\nsix===1.17.0;python_version>='3.8'\n", "uc.txt")
    with pytest.raises(VenvdebError) as exc:
        cons.for_target(ENV_311)
    assert "six is pinned twice" in str(exc.value)
