#!/usr/bin/env python3
"""Writes the seed corpora under tests/fuzz/corpus/TARGET/: valid inputs for each fuzz target.

The NBD seeds are real traffic: what nbdinfo, qemu-img and nbdcopy send to `dmp serve` (two exports of
64 KiB, as the fuzz targets serve), recorded by a proxy in between. The rest are built from the formats.
Usage: make-seeds.py [DMP]  (DMP: the binary to serve with, default ./dmp)
"""
import os
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.normpath(os.path.join(os.path.dirname(__file__), "..", ".."))
CORPUS = os.path.join(ROOT, "tests", "fuzz", "corpus")


def write(target, name, data):
    directory = os.path.join(CORPUS, target)
    os.makedirs(directory, exist_ok=True)
    with open(os.path.join(directory, name), "wb") as f:
        f.write(data.encode() if isinstance(data, str) else data)


def wait_for(path):
    for _ in range(200):
        if os.path.exists(path):
            return
        time.sleep(0.05)
    sys.exit(f"make-seeds: {path} did not appear")


def record(server_path, proxy_path, command):
    """Runs `command` against a proxy to server_path; returns what the client sent, one bytes per connection."""
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(proxy_path)
    listener.listen()
    sent = []

    def pump(source, sink, keep):
        try:
            while data := source.recv(65536):
                if keep is not None:
                    keep.append(data)
                sink.sendall(data)
            sink.shutdown(socket.SHUT_WR)
        except OSError:
            pass  # the other side closed first

    def accept():
        threads = []
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                break
            server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            server.connect(server_path)
            chunks = []
            sent.append(chunks)
            for args in ((client, server, chunks), (server, client, None)):
                thread = threading.Thread(target=pump, args=args, daemon=True)
                thread.start()
                threads.append(thread)
        for thread in threads:
            thread.join(5)

    acceptor = threading.Thread(target=accept, daemon=True)
    acceptor.start()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, timeout=60)
    time.sleep(0.3)
    listener.shutdown(socket.SHUT_RDWR)
    listener.close()
    acceptor.join(10)
    os.unlink(proxy_path)
    return [b"".join(chunks) for chunks in sent]


def after_handshake(stream):
    """The transmission phase of a recorded client stream: what follows NBD_OPT_GO or NBD_OPT_EXPORT_NAME."""
    at = 4  # the client's flags
    while at + 16 <= len(stream):
        option, length = struct.unpack(">II", stream[at + 8:at + 16])
        at += 16 + length
        if option in (1, 7):  # EXPORT_NAME, GO
            return stream[at:]
    return b""


def nbd_seeds(dmp):
    work = tempfile.mkdtemp(prefix="dmp-seeds-")
    served = os.path.join(work, "dmp.sock")
    proxy = os.path.join(work, "proxy.sock")
    source = os.path.join(work, "source.img")  # small, for small seeds: 2 KiB of data, then a hole
    with open(source, "wb") as f:
        f.write(bytes(range(256)) * 8)
        f.truncate(8192)
    server = subprocess.Popen([dmp, "serve", "memory", "zero", "--size", "64K", "--listen", f"unix:{served}"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for(served)
        uri = f"nbd+unix:///?socket={proxy}"
        uri1 = f"nbd+unix:///export1?socket={proxy}"
        clients = {
            "nbdinfo": ["nbdinfo", uri],
            "nbdinfo-list": ["nbdinfo", "--list", uri],
            "nbdinfo-export1": ["nbdinfo", uri1],
            "qemu-img-info": ["qemu-img", "info", "-f", "raw", uri],
            "qemu-img-convert-write": ["qemu-img", "convert", "-n", "-f", "raw", "-O", "raw", source, uri],
            "qemu-img-convert-read": ["qemu-img", "convert", "-f", "raw", "-O", "raw", uri, os.path.join(work, "out.img")],
            "nbdcopy-write": ["nbdcopy", source, uri],
            "nbdcopy-read": ["nbdcopy", uri, os.path.join(work, "copy.img")],
        }
        for name, command in clients.items():
            for number, stream in enumerate(record(served, proxy, command)):
                write("nbd-handshake", f"{name}-{number}", stream)
                if transmission := after_handshake(stream):
                    write("nbd-transmission", f"{name}-{number}", transmission)
    finally:
        server.terminate()
        server.wait()
        shutil.rmtree(work)


def nbd_request(command, offset, length, flags=0, handle=1, payload=b""):
    return struct.pack(">IHHQQI", 0x25609513, flags, command, handle, offset, length) + payload


def built_nbd_seeds():
    # The commands a client may send that the recorded ones did not: each command and flag once, then DISC.
    requests = [
        nbd_request(1, 0, 512, payload=b"\xa5" * 512),          # WRITE
        nbd_request(1, 4096, 512, flags=1, payload=b"\x5a" * 512),  # WRITE with FUA
        nbd_request(0, 0, 4096, handle=2),                      # READ
        nbd_request(3, 0, 0, handle=3),                         # FLUSH
        nbd_request(4, 8192, 4096, handle=4),                   # TRIM
        nbd_request(6, 12288, 4096, flags=2, handle=5),         # WRITE_ZEROES, NO_HOLE
        nbd_request(6, 16384, 4096, flags=0x10, handle=6),      # WRITE_ZEROES, FAST_ZERO
        nbd_request(5, 0, 65536, handle=7),                     # CACHE
        nbd_request(0, 65536 - 512, 1024, handle=8),            # READ past the end
        nbd_request(2, 0, 0, handle=9),                         # DISC
    ]
    write("nbd-transmission", "every-command", b"".join(requests))
    hello = struct.pack(">I", 3)  # FIXED_NEWSTYLE | NO_ZEROES
    def option(code, data=b""):
        return struct.pack(">QII", 0x49484156454F5054, code, len(data)) + data
    info = struct.pack(">I", 7) + b"export1" + struct.pack(">HHHH", 3, 0, 1, 2)
    write("nbd-handshake", "options-then-export-name",
          hello + option(8) + option(5) + option(10, b"\0\0\0\0") + option(3) + option(6, info) + option(1, b"export0")
          + nbd_request(0, 0, 512) + nbd_request(2, 0, 0))


def fuse_request(opcode, node, body=b"", unique=1):
    return struct.pack("<IIQQIIIHH", 40 + len(body), opcode, unique, node, 0, 0, 1, 0, 0) + body


def fuse_seeds():
    init = fuse_request(26, 0, struct.pack("<IIII", 7, 31, 131072, 0))
    def lookup(parent, name, unique):
        return fuse_request(1, parent, name.encode() + b"\0", unique)
    read_in = struct.pack("<QQIIIII", 1, 0, 4096, 0, 0, 0, 0)
    # The ids a fresh tree gives its nodes are found by lookups in the real daemon; these are the first ones.
    session = [init, lookup(1, "stat", 2), fuse_request(3, 1, b"", 3), fuse_request(27, 1, b"", 4),
               fuse_request(28, 1, read_in, 5), fuse_request(29, 1, b"", 6), fuse_request(17, 1, b"", 7)]
    write("fuse", "init-lookup-readdir", b"".join(session))
    # The ids the target's tree gives its nodes: attributes from 2 on; 15 is stat/reset, 25 a device's reset, 31 its faults.
    for node in range(2, 36):
        write("fuse", f"open-read-{node}", init + fuse_request(14, node, struct.pack("<II", 0, 0), 2)
              + fuse_request(15, node, read_in, 3) + fuse_request(18, node, struct.pack("<QIIQ", 1, 0, 0, 0), 4))
    for node, data in ((15, b"1\n"), (25, b"1\n"), (31, b"op=write error=EIO\n"), (31, b"clear\n")):
        write_in = struct.pack("<QQIIQII", 1, 0, len(data), 0, 0, 0, 0)
        write("fuse", f"open-write-{node}-{len(data)}", init + fuse_request(14, node, struct.pack("<II", 1, 0), 2)
              + fuse_request(16, node, write_in + data, 3) + fuse_request(25, node, b"\0" * 24, 4))
    write("fuse", "readlink-setattr-destroy", init + fuse_request(5, 3, b"", 2) + fuse_request(4, 2, b"\0" * 88, 3)
          + fuse_request(36, 0, struct.pack("<Q", 2), 4) + fuse_request(38, 0, b"", 5))


def text_seeds():
    for name, line in {
        "fault-add": "fault-add dmp0 op=write%20error=EIO\n",
        "fault-list": "fault-list \n",
        "fault-clear": "fault-clear dmp0 1\n",
        "stat-clear": "stat-clear dmp0 json\n",
        "status": "status\n",
        "attach": "attach memory 1048576 none 1\n",
        "reply": "line one\nline%20two\nerror no such device\n",
    }.items():
        write("control", name, line)
    for name, table in {"table": "0 2048 dmp /dev/sdb", "table-file": "0 8 dmp ./disk.img"}.items():
        write("dm-table", name, table)
    for name, size in {"bytes": "1048576", "suffix": "4G", "iec": "512KiB", "sectors-b": "512B",
                       "duration": "1.5s", "duration-ms": "250ms", "duration-us": "10us"}.items():
        write("size", name, size)
    write("dmptab", "dmptab", "# name backing options\n"
          "disk0 /srv/disk.img cache=writeback,connections=4\n"
          "scratch memory size=1G\n"
          "zero zero size=4M,ro,nodm\n")
    with open(os.path.join(ROOT, "contrib", "dmptab"), encoding="utf-8") as example:
        write("dmptab", "contrib-dmptab", example.read())
    for name, rule in {"error": "op=write error=EIO", "delay": "op=read delay=10ms-20ms probability=0.5",
                       "range": "offset=4K length=8s drop after=2 count=3", "period": "up=1s down=500ms error=ENOSPC",
                       "corrupt": "op=read corrupt"}.items():
        write("fault-rule", name, rule)
    write("http", "metrics", "GET /metrics HTTP/1.1\r\nHost: localhost:9100\r\nAccept: text/plain\r\n\r\n")
    write("http", "bare-lf", "GET /metrics?x=1 HTTP/1.0\nUser-Agent: curl/7.88.1\n\n")


def netlink_seeds():
    def message(kind, sequence, body, flags=0):
        return struct.pack("<IHHII", 16 + len(body), kind, flags, sequence, 0) + body
    def attribute(kind, payload):
        padded = payload + b"\0" * (-len(payload) % 4)
        return struct.pack("<HH", 4 + len(payload), kind) + padded
    generic = struct.pack("<BBH", 1, 1, 0)
    ack = struct.pack("<i", 0) + struct.pack("<IHHII", 40, 0x20, 5, 1, 0)
    family = generic + attribute(1, struct.pack("<H", 0x20)) + attribute(2, b"nbd\0")
    write("netlink", "family-then-ack", message(0x20, 1, family) + message(2, 1, ack))
    write("netlink", "connect-index", message(0x20, 1, generic + attribute(1, struct.pack("<I", 3))) + message(2, 1, ack))
    write("netlink", "late-then-ack", message(0x20, 0, generic) + message(2, 1, ack))
    extended = struct.pack("<i", -16) + struct.pack("<IHHII", 16, 0x20, 5, 1, 0) + attribute(1, b"device busy\0")
    write("netlink", "error-with-message", message(2, 1, extended, flags=0x300))


if __name__ == "__main__":
    nbd_seeds(os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "dmp")))
    built_nbd_seeds()
    fuse_seeds()
    text_seeds()
    netlink_seeds()
