"""The floor: a plain asyncssh fan-out, ``python fanout_run.py HOSTS_JSON VERSION``.

No plan, no state, no events: connect to every host at once, run the three steps in turn on
each, fail on the first non-zero exit. What any asyncssh-based tool can at best approach.
"""

import asyncio
import json
import sys
from typing import Any

import asyncssh


async def deploy(host: dict[str, str], spec: dict[str, Any], version: str) -> None:
    async with asyncssh.connect(
        host["address"],
        username=host["user"],
        client_keys=[spec["client_key"]],
        known_hosts=spec["known_hosts"],
        agent_path=None,
        config=None,
    ) as connection:
        for command in spec["steps"]:
            await connection.run(command.replace(spec["release"], version), check=True)


async def main(hosts_file: str, version: str) -> int:
    with open(hosts_file) as f:
        spec = json.load(f)
    await asyncio.gather(*(deploy(host, spec, version) for host in spec["hosts"]))
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main(sys.argv[1], sys.argv[2])))
