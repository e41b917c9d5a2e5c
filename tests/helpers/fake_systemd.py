"""A stand-in for systemd's D-Bus Manager, for tests of the systemd cgroup driver's client.

Run as ``python fake_systemd.py BUS_ADDRESS LOG``: it owns
``org.freedesktop.systemd1`` on the bus and answers StartTransientUnit,
StopUnit and ResetFailedUnit the way systemd does (a job path, then a
``JobRemoved`` signal with the job's result), keeping the units it has in
memory. Every call it gets is appended to LOG as one JSON line, so a test can
assert what the client asked. A unit whose name contains ``failjob`` gets a
start job that ends ``failed`` (and stays loaded, as systemd keeps a failed
unit) until it has been reset once (ResetFailedUnit). ``READY`` is printed once the name is owned.
"""

from __future__ import annotations

import json
import sys
from typing import Any

from jeepney import (
    DBusAddress,
    HeaderFields,
    MessageType,
    new_error,
    new_method_return,
    new_signal,
)
from jeepney.bus_messages import message_bus
from jeepney.io.blocking import open_dbus_connection

PATH = "/org/freedesktop/systemd1"
IFACE = "org.freedesktop.systemd1.Manager"


def plain(value: Any) -> Any:
    if isinstance(value, bytes):
        return list(value)
    if isinstance(value, tuple | list):
        return [plain(v) for v in value]
    return value


def main(address: str, log_path: str) -> None:
    conn = open_dbus_connection(bus=address)
    reply = conn.send_and_get_reply(message_bus.RequestName("org.freedesktop.systemd1"))
    assert reply.body[0] == 1, reply.body  # primary owner
    print("READY", flush=True)
    units: dict[str, str] = {}  # name -> state ("active" or "failed")
    was_reset: set[str] = set()
    jobs = 0
    emitter = DBusAddress(PATH, interface=IFACE)
    while True:
        msg = conn.receive()
        if msg.header.message_type != MessageType.method_call:
            continue
        member = msg.header.fields.get(HeaderFields.member)
        iface = msg.header.fields.get(HeaderFields.interface)
        if iface != IFACE:
            conn.send(new_error(msg, "org.freedesktop.DBus.Error.UnknownInterface"))
            continue
        with open(log_path, "a", encoding="utf-8") as log:
            log.write(json.dumps({"method": member, "args": plain(msg.body)}) + "\n")
        if member == "StartTransientUnit":
            name = msg.body[0]
            if name in units:
                conn.send(
                    new_error(
                        msg,
                        "org.freedesktop.systemd1.UnitExists",
                        "s",
                        (f"Unit {name} already exists.",),
                    )
                )
                continue
            jobs += 1
            job = f"{PATH}/job/{jobs}"
            result = "failed" if "failjob" in name and name not in was_reset else "done"
            units[name] = "failed" if result == "failed" else "active"
            conn.send(new_method_return(msg, "o", (job,)))
            conn.send(new_signal(emitter, "JobRemoved", "uoss", (jobs, job, name, result)))
        elif member == "StopUnit":
            name = msg.body[0]
            if name not in units:
                conn.send(
                    new_error(
                        msg,
                        "org.freedesktop.systemd1.NoSuchUnit",
                        "s",
                        (f"Unit {name} not loaded.",),
                    )
                )
                continue
            del units[name]
            jobs += 1
            job = f"{PATH}/job/{jobs}"
            conn.send(new_method_return(msg, "o", (job,)))
            conn.send(new_signal(emitter, "JobRemoved", "uoss", (jobs, job, name, "done")))
        elif member == "SetUnitProperties":
            if msg.body[0] not in units:
                conn.send(new_error(msg, "org.freedesktop.systemd1.NoSuchUnit", "s", ("no unit",)))
                continue
            conn.send(new_method_return(msg))
        elif member == "ResetFailedUnit":
            name = msg.body[0]
            if units.get(name) == "failed":
                del units[name]
                was_reset.add(name)
            conn.send(new_method_return(msg))
        else:
            conn.send(new_error(msg, "org.freedesktop.DBus.Error.UnknownMethod"))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
