"""A stand-in for Access Server's `pyovpn` package: just what post-auth scripts import."""
