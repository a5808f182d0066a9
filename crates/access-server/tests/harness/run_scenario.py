#!/usr/bin/env python3
"""Drive a rendered post-auth script the way OpenVPN Access Server does.

    run_scenario.py SCENARIO_JSON

The script is compiled from its text into a fresh module (Access Server keeps it in its
database, not as a file), with the stand-in `pyovpn.plugin` of setup's driver
(assets/access-server/try_post_auth.py) importable. Then
`post_auth_cr(authcred, attributes, authret, info, crstate)` is called; when it issues a
challenge and the scenario has an answer left, it is called again with `crstate.response()`
giving that answer, as Access Server does when the client comes back with CRV1.

The scenario (JSON):
  {"script": PATH, "mode": "login" | "tls" | "sign" | "values",
   "username": "alice", "authcred": {...}, "attributes": {...}, "info": {...},
   "primary": "SUCCEED" | "FAIL", "answers": ["push", ...],
   "sign": {"method":…, "path":…, "params": {...}, "date":…}}

Prints one JSON object: what happened, including everything the script printed (its log).
"""

import base64
import contextlib
import io
import json
import os
import sys
import time
import types

HERE = os.path.dirname(os.path.abspath(__file__))
# The driver setup runs the installed script with: its stand-in for Access Server's
# `pyovpn.plugin` (registered on import) and its names for the results.
sys.path.insert(0, os.path.join(HERE, "..", "..", "..", "..", "assets", "access-server"))

from try_post_auth import FAIL, SUCCEED, status_name  # noqa: E402


class CRState(dict):
    """Access Server's challenge/response state: dict access plus three methods."""

    def __init__(self, username):
        dict.__init__(self)
        self.username = username
        self.challenges = []
        self.expired = 0
        self.answer = None

    def challenge_post_auth(self, authret, text, echo=False):
        self.challenges.append({"text": text, "echo": bool(echo)})
        user = base64.b64encode(self.username.encode("utf-8")).decode("ascii")
        authret["status"] = FAIL
        authret["client_reason"] = "CRV1:%s:%s:%s:%s" % ("R,E" if echo else "R", "st01", user, text)
        return authret

    def response(self):
        return self.answer

    def expire(self):
        self.expired += 1
        self.clear()


def load_script(path):
    with open(path, encoding="utf-8") as f:
        source = f.read()
    module = types.ModuleType("post_auth_script")
    exec(compile(source, "<post_auth_script>", "exec"), module.__dict__)
    return module


def login(module, sc):
    username = sc.get("username", "alice")
    authcred = {"username": username, "client_ip_addr": "203.0.113.7"}
    authcred.update(sc.get("authcred") or {})
    attributes = {"vpn_auth": True, "client_info": {"IV_VER": "2.6.14"}}
    attributes.update(sc.get("attributes") or {})
    info = {"auth_method": "local"}
    info.update(sc.get("info") or {})
    primary = SUCCEED if sc.get("primary", "SUCCEED") == "SUCCEED" else FAIL
    answers = list(sc.get("answers") or [])
    crstate = CRState(username)

    rounds = []
    authret = {"status": primary, "reason": "primary auth", "proplist": {"type": "user_connect"}}
    while True:
        before = len(crstate.challenges)
        started = time.time()
        returned = module.post_auth_cr(authcred, attributes, authret, info, crstate)
        if isinstance(returned, tuple):
            returned = returned[0]
        rounds.append({
            "status": status_name(returned.get("status")),
            "reason": returned.get("reason"),
            "client_reason": returned.get("client_reason"),
            "challenged": len(crstate.challenges) > before,
            "seconds": round(time.time() - started, 3),
            "same_authret": returned is authret,
        })
        if len(crstate.challenges) > before and answers and len(rounds) < 4:
            # The client answers the CRV1 challenge; Access Server calls us again with the
            # primary authentication's result and the answer in crstate.
            crstate.answer = answers.pop(0)
            authret = {"status": SUCCEED, "reason": "primary auth", "proplist": {}}
            continue
        break
    last = rounds[-1]
    return {
        "rounds": rounds,
        "status": last["status"],
        "reason": last["reason"],
        "client_reason": last["client_reason"],
        "challenges": crstate.challenges,
        "expired": crstate.expired,
        "crstate_keys": sorted(crstate.keys()),
    }


def main():
    sc = json.loads(sys.argv[1])
    mode = sc.get("mode", "login")
    captured = io.StringIO()
    with contextlib.redirect_stdout(captured):
        module = load_script(sc["script"])
        if mode == "login":
            out = login(module, sc)
        elif mode == "tls":
            ctx = module._tls_context()
            out = {
                "ca_certs": ctx.cert_store_stats().get("x509_ca"),
                "check_hostname": ctx.check_hostname,
                "verify_mode": int(ctx.verify_mode),
            }
        elif mode == "sign":
            s = sc["sign"]
            line = module.canon_params(s["params"])
            out = {"canon_params": line, "authorization": module.sign(s["method"], s["path"], line, s["date"])}
        elif mode == "values":
            out = {k: getattr(module, k) for k in (
                "IKEY", "SKEY", "HOST", "CA_CERTS", "PROXY_HOST", "PROXY_PORT",
                "PROXY_AUTHORIZATION", "FAILMODE", "TIMEOUT", "AUTOPUSH", "SKIP_DUO_FOR_VPN",
                "SYNCHRONOUS")}
        else:
            raise SystemExit("unknown mode %r" % mode)
    out["log"] = captured.getvalue().splitlines()
    print(json.dumps(out))


if __name__ == "__main__":
    main()
