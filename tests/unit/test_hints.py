from venvdeb.wheelhouse.hints import failure_excerpt, for_build_failure


def test_missing_header_points_at_the_dev_package():
    log = "gcc ... \nlibvirt-override.c:1:10: fatal error: libvirt/libvirt.h: No such file or directory\n"
    assert "libvirt-dev" in for_build_failure("libvirt-python", log)
    assert "libvirt/libvirt.h" in failure_excerpt(log)


def test_known_distribution_without_a_telling_log():
    assert "libldap2-dev libsasl2-dev" in for_build_failure("python-ldap", "error: something odd")


def test_unknown_failure_says_where_to_look():
    assert "build log" in for_build_failure("whatever", "boom")
