"""Fabric's side of the benchmark: ``PYTHON fabric_run.py HOSTS_JSON VERSION`` (peers' venv).

A ThreadingGroup over every host (Fabric's parallel group: one thread per host), running the
three steps in turn, host keys checked against the sandbox's known_hosts.
"""

import json
import sys

import paramiko  # type: ignore[import-untyped,unused-ignore]
from fabric import Connection, ThreadingGroup  # type: ignore[import-not-found,unused-ignore]


def main(hosts_file: str, version: str) -> int:
    with open(hosts_file) as f:
        spec = json.load(f)
    connections = []
    for host in spec["hosts"]:
        connection = Connection(
            host["address"],
            user=host["user"],
            connect_kwargs={
                "key_filename": spec["client_key"],
                "look_for_keys": False,
                "allow_agent": False,
            },
        )
        connection.client.load_host_keys(spec["known_hosts"])
        connection.client.set_missing_host_key_policy(paramiko.RejectPolicy())
        connections.append(connection)
    group = ThreadingGroup.from_connections(connections)
    for command in spec["steps"]:
        group.run(command.replace(spec["release"], version), hide=True)
    group.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
