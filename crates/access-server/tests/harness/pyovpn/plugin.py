"""A stand-in for `pyovpn.plugin`: the two results a post-auth script returns."""


class _Result(object):
    def __init__(self, name):
        self.name = name

    def __repr__(self):
        return self.name


SUCCEED = _Result("SUCCEED")
FAIL = _Result("FAIL")
