"""One HAProxy runtime API command: ``python hactl.py SOCKET COMMAND`` (for Ansible's tasks).

Fails (exit 1) when HAProxy answers anything but an empty line, as ``set server`` does on
success.
"""

import socket
import sys


def main(path: str, command: str) -> int:
    with socket.socket(socket.AF_UNIX) as client:
        client.settimeout(5)
        client.connect(path)
        client.sendall(command.encode() + b"\n")
        reply = b""
        while chunk := client.recv(4096):
            reply += chunk
    if reply.strip():
        print(reply.decode(errors="replace"), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
