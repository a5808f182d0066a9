"""Run the post-auth script Access Server has loaded, once, the way Access Server runs it.

`duo-openvpn setup` (and its wizard) runs this with python3 after installing our script, so the
live test goes through the installed script itself: the text read back from Access Server's
configuration database, Duo's answers, the challenge round a VPN client would see.

Everything arrives on stdin as one JSON object, because the script holds the Duo secret key and
the answer may be a passcode (neither may appear in argv):
  {"script": TEXT, "username": "alice", "answer": "push" | PASSCODE | "", "vpn": true}

Each step is one JSON line on stdout:
  {"event": "log", "line": ...}          what the script printed (Access Server's log)
  {"event": "challenge", "text": ...}    the CRV1 challenge a VPN client would show
  {"event": "result", "status": "SUCCEED" | "FAIL", "reason": ..., "client_reason": ...}
The answer itself is never printed.
"""

import json
import sys
import time
import types


class _Result(object):
    def __init__(self, name):
        self.name = name

    def __repr__(self):
        return self.name


# Access Server's `pyovpn.plugin` is not importable outside its own runtime: the two results
# a post-auth script imports stand in for it.
SUCCEED = _Result("SUCCEED")
FAIL = _Result("FAIL")
_plugin = types.ModuleType("pyovpn.plugin")
_plugin.SUCCEED = SUCCEED
_plugin.FAIL = FAIL
_pyovpn = types.ModuleType("pyovpn")
_pyovpn.plugin = _plugin
sys.modules["pyovpn"] = _pyovpn
sys.modules["pyovpn.plugin"] = _plugin

_out = sys.stdout


def emit(**event):
    _out.write(json.dumps(event) + "\n")
    _out.flush()


class _Log(object):
    """The script's `print`s, forwarded line by line as they come."""

    def __init__(self):
        self.pending = ""

    def write(self, text):
        self.pending += text
        while "\n" in self.pending:
            line, self.pending = self.pending.split("\n", 1)
            emit(event="log", line=line)

    def flush(self):
        pass


class CRState(dict):
    """Access Server's challenge/response state: dict access plus three methods."""

    def __init__(self):
        dict.__init__(self)
        self.challenged = None
        self.answer = None

    def challenge_post_auth(self, authret, text, echo=False):
        self.challenged = text
        authret["status"] = FAIL
        authret["client_reason"] = "CRV1:%s:state:user:%s" % ("R,E" if echo else "R", text)
        return authret

    def response(self):
        return self.answer

    def expire(self):
        self.clear()


def status_name(status):
    if status is SUCCEED:
        return "SUCCEED"
    if status is FAIL:
        return "FAIL"
    return repr(status)


def main():
    request = json.loads(sys.stdin.read())
    sys.stdout = _Log()
    module = types.ModuleType("post_auth_script")
    exec(compile(request["script"], "<post_auth_script>", "exec"), module.__dict__)
    username = request["username"]
    vpn = bool(request.get("vpn", True))
    authcred = {"username": username, "client_ip_addr": "127.0.0.1"}
    attributes = {"vpn_auth": vpn, "client_info": {}}
    if not vpn:
        attributes["log_service_name"] = "WEB_CLIENT"
    info = {"auth_method": "local"}
    crstate = CRState()
    started = time.time()
    authret = {"status": SUCCEED, "reason": "primary auth", "proplist": {}}
    for _ in range(2):
        crstate.challenged = None
        if hasattr(module, "post_auth_cr"):
            returned = module.post_auth_cr(authcred, attributes, authret, info, crstate)
        else:
            returned = module.post_auth(authcred, attributes, authret, info)
        if isinstance(returned, tuple):
            returned = returned[0]
        if crstate.challenged is None:
            break
        emit(event="challenge", text=crstate.challenged)
        # The client answers; Access Server calls the script again with the answer in crstate.
        crstate.answer = request.get("answer", "")
        authret = {"status": SUCCEED, "reason": "primary auth", "proplist": {}}
    emit(
        event="result",
        status=status_name(returned.get("status")),
        reason=returned.get("reason") or "",
        client_reason=returned.get("client_reason") or "",
        seconds=round(time.time() - started, 3),
    )


if __name__ == "__main__":
    main()
