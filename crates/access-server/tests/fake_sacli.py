#!/usr/bin/env python3
"""A stand-in for Access Server's `sacli`, for tests.

Installed at <root>/usr/local/openvpn_as/scripts/sacli. It keeps the configuration database in
<root>/usr/local/openvpn_as/etc/fake-config.json (a JSON object of strings) and appends one JSON
line per call to <root>/usr/local/openvpn_as/sacli-calls.log: {"argv": [...]}, plus
"value_file_mode" (octal) when a --value_file was read.

Understands: Version; ConfigQuery; --key K --value V ConfigPut;
--key K --value_file F ConfigPut (also --value_file=F); --key K ConfigDel; start.
"""

import json
import os
import stat
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
AS_DIR = os.path.dirname(HERE)
DB = os.path.join(AS_DIR, "etc", "fake-config.json")
LOG = os.path.join(AS_DIR, "sacli-calls.log")
VERSION = "2.14.3 (fake sacli)"


def load():
    try:
        with open(DB) as f:
            return json.load(f)
    except FileNotFoundError:
        return {}


def save(db):
    os.makedirs(os.path.dirname(DB), exist_ok=True)
    tmp = DB + ".tmp"
    with open(tmp, "w") as f:
        json.dump(db, f, indent=2, sort_keys=True)
    os.replace(tmp, DB)


def fail(message):
    sys.stderr.write("sacli: %s\n" % message)
    sys.exit(1)


def main(argv):
    entry = {"argv": argv}
    opts = {}
    words = []
    i = 0
    while i < len(argv):
        a = argv[i]
        if a.startswith("--"):
            name, eq, value = a[2:].partition("=")
            if not eq:
                if i + 1 >= len(argv):
                    log(entry)
                    fail("option --%s needs a value" % name)
                value = argv[i + 1]
                i += 1
            opts[name] = value
        else:
            words.append(a)
        i += 1
    if "value_file" in opts:
        path = opts["value_file"]
        try:
            entry["value_file_mode"] = "%o" % stat.S_IMODE(os.stat(path).st_mode)
            with open(path) as f:
                opts["value"] = f.read()
        except OSError as e:
            log(entry)
            fail("cannot read %s: %s" % (path, e))
    log(entry)

    if words == ["Version"]:
        print(VERSION)
    elif words == ["ConfigQuery"]:
        print(json.dumps(load(), indent=2, sort_keys=True))
    elif words == ["ConfigPut"]:
        if "key" not in opts or "value" not in opts:
            fail("ConfigPut needs --key and --value or --value_file")
        db = load()
        db[opts["key"]] = opts["value"]
        save(db)
    elif words == ["ConfigDel"]:
        if "key" not in opts:
            fail("ConfigDel needs --key")
        db = load()
        db.pop(opts["key"], None)
        save(db)
    elif words == ["start"]:
        print("RunStart warm None")
    else:
        fail("unknown command %r" % (words,))


def log(entry):
    with open(LOG, "a") as f:
        f.write(json.dumps(entry) + "\n")


if __name__ == "__main__":
    main(sys.argv[1:])
