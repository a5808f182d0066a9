"""Sign a table of requests with Duo's reference client (duo_client.client.sign).

Reads a JSON list of cases on stdin; prints, for each, the Authorization header, the canonical
string and the body the reference client would send. Used by tests/conformance.rs.
"""
import hashlib
import json
import sys

from duo_client import client

cases = json.load(sys.stdin)
out = []
for case in cases:
    params = {}
    for key, value in case["params"]:
        params.setdefault(key, []).append(value)
    digest = {"sha1": hashlib.sha1, "sha512": hashlib.sha512}[case["digest"]]
    version = case["sig_version"]
    headers = dict(case.get("headers", []))
    body = None
    if version in (4, 5):
        if case["method"].upper() in ("POST", "PUT", "PATCH"):
            # What Client.api_call sends: canon_json of the parameters, empty params line.
            body = client.Client.canon_json({k: v[0] for k, v in params.items()})
            params = {}
        else:
            body = ""
    auth = client.sign(
        case["ikey"],
        case["skey"],
        case["method"],
        case["host"],
        case["path"],
        case["date"],
        version,
        params,
        body=body,
        digestmod=digest,
        additional_headers=headers,
    )
    canonical = client.canonicalize(
        case["method"], case["host"], case["path"], params, case["date"], version,
        body=body, additional_headers=headers,
    )
    out.append({"authorization": auth, "canonical": canonical, "body": body})
json.dump(out, sys.stdout)
