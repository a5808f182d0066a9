#!/usr/bin/env python3
"""A minimal HTTP CONNECT proxy for tests: `connect_proxy.py LOG`.

Listens on 127.0.0.1 (an ephemeral port, printed as the first line of stdout), appends one
JSON line per CONNECT to LOG ({"target": "host:port", "proxy_authorization": ...}) and
tunnels bytes both ways. Runs until killed.
"""

import json
import socket
import sys
import threading


def pipe(src, dst):
    try:
        while True:
            data = src.recv(65536)
            if not data:
                break
            dst.sendall(data)
    except OSError:
        pass
    finally:
        for s in (src, dst):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


def handle(client, log_path):
    try:
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = client.recv(4096)
            if not chunk:
                client.close()
                return
            head += chunk
        text, _, rest = head.partition(b"\r\n\r\n")
        lines = text.decode("latin-1").split("\r\n")
        method, target, _version = lines[0].split(" ", 2)
        headers = {}
        for line in lines[1:]:
            k, _, v = line.partition(":")
            headers[k.strip().lower()] = v.strip()
        with open(log_path, "a") as f:
            f.write(json.dumps({
                "method": method,
                "target": target,
                "proxy_authorization": headers.get("proxy-authorization"),
            }) + "\n")
        if method != "CONNECT":
            client.sendall(b"HTTP/1.1 405 Method Not Allowed\r\nContent-Length: 0\r\n\r\n")
            client.close()
            return
        host, _, port = target.rpartition(":")
        upstream = socket.create_connection((host, int(port)), timeout=10)
        upstream.settimeout(None)
        client.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
        if rest:
            upstream.sendall(rest)
        threading.Thread(target=pipe, args=(upstream, client), daemon=True).start()
        pipe(client, upstream)
    except Exception as e:  # a test proxy: say what went wrong and drop the connection
        sys.stderr.write("connect_proxy: %s\n" % e)
        client.close()


def main():
    log_path = sys.argv[1]
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    print(server.getsockname()[1], flush=True)
    while True:
        client, _ = server.accept()
        threading.Thread(target=handle, args=(client, log_path), daemon=True).start()


if __name__ == "__main__":
    main()
