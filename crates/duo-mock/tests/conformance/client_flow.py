"""Drive the Duo stand-in with Duo's reference client (duo_client.Auth).

usage: client_flow.py PORT CA_FILE IKEY SKEY PASSCODE1 PASSCODE2

Prints one line per step; exits non-zero (with the reason) at the first unexpected answer.
Used by tests/conformance.rs.
"""
import hashlib
import sys
import time

import duo_client

port, ca, ikey, skey, code1, code2 = sys.argv[1:7]
port = int(port)


def auth_client(**kw):
    # duo_client 5.7.0 connects to host:443 unless given port=, even for a host "name:port";
    # it then signs the bare host name while the Host header carries the port.
    kw.setdefault("ikey", ikey)
    kw.setdefault("skey", skey)
    return duo_client.Auth(host="localhost", port=port, ca_certs=ca, **kw)


def step(name, got, want=None):
    print(f"{name}: {got}")
    if want is not None and not want(got):
        print(f"FAILED at {name}", file=sys.stderr)
        sys.exit(1)


def poll(c, txid, limit=30):
    seen = []
    for _ in range(limit):
        s = c.auth_status(txid)
        seen.append(s["status"])
        if not s["waiting"]:
            return s, seen
    return s, seen


c = auth_client()  # signature v5, SHA-512: the reference client's default
step("client sig_version", c.sig_version, lambda v: v == 5)
step("ping", c.ping(), lambda r: abs(r["time"] - time.time()) < 5)
step("check", c.check(), lambda r: abs(r["time"] - time.time()) < 5)

pre = c.preauth(username="alice", ipaddr="203.0.113.7")
step("preauth alice", pre["result"], lambda r: r == "auth")
step("alice devices", [d["device"] for d in pre["devices"]], lambda d: len(d) == 3)
for user, want in [("carol", "enroll"), ("dave", "allow"), ("eve", "deny"),
                   ("jürgen", "auth"), ("alice smith", "auth"), ("grace", "auth")]:
    r = c.preauth(username=user)
    step(f"preauth {user}", r["result"], lambda r, want=want: r == want)
    step(f"preauth {user} status_msg", r["status_msg"], lambda m: bool(m))
step("enroll url", c.preauth(username="carol")["enroll_portal_url"],
     lambda u: u.startswith(f"https://localhost:{port}/portal?"))

started = c.auth("push", username="alice", device="auto", async_txn=True,
                 pushinfo="from=vpn.example.com&domain=example.com", ipaddr="203.0.113.7")
step("auth push async", sorted(started), lambda k: k == ["txid"])
first = c.auth_status(started["txid"])
step("first auth_status", (first["waiting"], first["status"]), lambda s: s == (True, "pushed"))
final, seen = poll(c, started["txid"])
step("push final", (final["success"], final["status"], final["status_msg"]),
     lambda s: s == (True, "allow", "Success. Logging you in..."))

tablet = pre["devices"][1]["device"]
r = c.auth("push", username="jürgen", device="auto")
step("auth push sync jürgen", r["result"], lambda r: r == "allow")
r = c.auth("push", username="alice", device=tablet)
step("auth push sync to the second device", r["result"], lambda r: r == "allow")
r = c.auth("push", username="bob", device="auto")
step("auth push sync bob", (r["result"], r["status"]), lambda s: s == ("deny", "deny"))
r = c.auth("sms", username="alice", device="auto")
step("auth sms", (r["result"], r["status"], r["status_msg"]),
     lambda s: s == ("deny", "sent", "New SMS passcodes sent"))

started = c.auth("passcode", username="alice smith", passcode=code1, async_txn=True)
final, _ = poll(c, started["txid"])
step("passcode async", (final["success"], final["status"]), lambda s: s == (True, "allow"))
r = c.auth("passcode", username="alice smith", passcode=code1)
step("passcode reused", (r["result"], r["status_msg"]),
     lambda s: s == ("deny", "Incorrect passcode. Please try again."))
r = c.auth("passcode", username="grace", passcode=code2)
step("passcode sync (no devices)", r["result"], lambda r: r == "allow")

resp, data = c.api_call("GET", "/auth/v2/check", {}, additional_headers={"X-Duo-Test": "yes"})
step("check with a signed X-Duo header", resp.status, lambda s: s == 200)

v2 = auth_client(sig_version=2)
step("check v2 sha512", v2.check(), lambda r: "time" in r)
step("preauth v2 jürgen", v2.preauth(username="jürgen")["result"], lambda r: r == "auth")
v2sha1 = auth_client(sig_version=2, digestmod=hashlib.sha1)
step("preauth v2 sha1 'alice smith'", v2sha1.preauth(username="alice smith")["result"],
     lambda r: r == "auth")
started = v2sha1.auth("push", username="alice", async_txn=True)
final, _ = poll(v2sha1, started["txid"])
step("push via v2 sha1", final["success"], lambda s: s is True)

for name, bad in [("wrong skey", auth_client(skey="X" * 40)),
                  ("wrong ikey", auth_client(ikey="DIXXXXXXXXXXXXXXXXXX"))]:
    try:
        bad.check()
    except RuntimeError as e:
        step(name, (e.status, str(e)),
             lambda s: s[0] == 401 and "Invalid signature in request credentials" in s[1])
    else:
        step(name, "accepted", lambda _: False)

print("OK")
