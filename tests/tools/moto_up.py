#!/usr/bin/env python3
"""Starts moto's AWS API emulator on 127.0.0.1 on a port the kernel picks
(no race for a free port), writes the port to PORT_FILE once it answers, and
serves until SIGTERM.

usage: moto_up.py PORT_FILE
"""
import os
import signal
import sys
import threading

from moto.server import ThreadedMotoServer


def main(port_file):
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    _, port = server.get_host_and_port()
    tmp = port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write(str(port))
    os.rename(tmp, port_file)  # the reader sees the whole number or nothing
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    signal.signal(signal.SIGINT, lambda *_: done.set())
    done.wait()
    server.stop()


if __name__ == "__main__":
    main(sys.argv[1])
