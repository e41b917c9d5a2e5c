"""The systemd cgroup driver's side effects: two D-Bus calls to systemd's Manager, and their jobs.

Only :class:`ocitool.exec.linux.LinuxSyscalls` calls this (the recording and
fault backends see ``systemd_start_unit``/``systemd_stop_unit`` as calls
like any other). It talks to the system bus with jeepney (pure Python, no
compiler), which is imported here only: commands that do not use the
systemd driver never load it.

Each call waits for its job, the way runc's driver does: subscribe to the
Manager's ``JobRemoved`` signal *before* calling (a fast job could end before
a later subscription), then read signals until the one for the returned job
path arrives; its result must be ``done``. The bus address is the standard
one (``DBUS_SYSTEM_BUS_ADDRESS``, else /run/dbus/system_bus_socket); its
value is never shown in an error (environment values can hold secrets).
"""

from __future__ import annotations

import time
from typing import Any

from jeepney import DBusAddress, MatchRule, MessageType, new_method_call
from jeepney.bus_messages import message_bus
from jeepney.io.blocking import DBusConnection, open_dbus_connection

from ocitool.exec.syscalls import exec_error

MANAGER = DBusAddress(
    "/org/freedesktop/systemd1",
    bus_name="org.freedesktop.systemd1",
    interface="org.freedesktop.systemd1.Manager",
)
JOB_TIMEOUT = 30.0  # seconds, as runc waits for a unit's start job
CODE = "OCI531"
NO_BUS_HINT = (
    "--systemd-cgroup needs systemd's D-Bus API on the system bus; is systemd the init "
    "and dbus running? Otherwise use the cgroupfs driver (drop --systemd-cgroup)"
)
UNIT_EXISTS = "org.freedesktop.systemd1.UnitExists"
GONE = ("org.freedesktop.systemd1.NoSuchUnit", "org.freedesktop.systemd1.UnitNotLoaded")


class BusError(Exception):
    """An error reply from systemd: its D-Bus error name and message."""

    def __init__(self, name: str, text: str) -> None:
        super().__init__(f"{name}: {text}")
        self.name = name


def _connect() -> DBusConnection:
    try:
        return open_dbus_connection(bus="SYSTEM")
    except (OSError, ValueError, KeyError) as exc:
        raise exec_error(
            f"cannot reach systemd on the system bus ({type(exc).__name__})",
            CODE,
            hint=NO_BUS_HINT,
        ) from None


def _call(conn: DBusConnection, method: str, signature: str, body: tuple[Any, ...]) -> Any:
    reply = conn.send_and_get_reply(
        new_method_call(MANAGER, method, signature, body), timeout=JOB_TIMEOUT
    )
    if reply.header.message_type == MessageType.error:
        from jeepney import HeaderFields

        name = str(reply.header.fields.get(HeaderFields.error_name, "unknown"))
        text = str(reply.body[0]) if reply.body else ""
        raise BusError(name, text)
    return reply.body


def _job_rule() -> MatchRule:
    return MatchRule(
        type="signal",
        interface="org.freedesktop.systemd1.Manager",
        member="JobRemoved",
        path="/org/freedesktop/systemd1",
    )


def _run_job(
    conn: DBusConnection, method: str, signature: str, body: tuple[Any, ...]
) -> tuple[str, str]:
    """Call a job-returning Manager method and wait for its JobRemoved: (unit, result)."""
    rule = _job_rule()
    with conn.filter(rule) as queue:
        conn.send_and_get_reply(message_bus.AddMatch(rule), timeout=JOB_TIMEOUT)
        (job,) = _call(conn, method, signature, body)
        deadline = time.monotonic() + JOB_TIMEOUT
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"systemd job {job} did not finish in {JOB_TIMEOUT:.0f} s")
            signal = conn.recv_until_filtered(queue, timeout=left)
            _id, path, unit, result = signal.body
            if path == job:
                return str(unit), str(result)


def _failure(what: str, exc: BaseException) -> Exception:
    if isinstance(exc, BusError):
        return exec_error(f"{what}: systemd answered {exc}", CODE)
    if isinstance(exc, TimeoutError):
        return exec_error(f"{what}: {exc}", CODE, hint="is systemd busy or stuck?")
    return exec_error(
        f"{what}: the system bus connection failed ({type(exc).__name__})", CODE, hint=NO_BUS_HINT
    )


def start_transient_unit(
    unit: str, mode: str, properties: list[tuple[str, tuple[str, Any]]]
) -> None:
    """StartTransientUnit(unit, mode, properties, no aux units) and wait for ``done``.

    A unit of the same name left over from an earlier container (failed, not
    yet collected) is reset once and the call retried, as runc does.
    """
    with _connect() as conn:
        body: tuple[Any, ...] = (unit, mode, properties, [])
        try:
            try:
                _, result = _run_job(conn, "StartTransientUnit", "ssa(sv)a(sa(sv))", body)
            except BusError as exc:
                if exc.name != UNIT_EXISTS:
                    raise
                try:
                    _call(conn, "ResetFailedUnit", "s", (unit,))
                except BusError:
                    raise exc from None
                _, result = _run_job(conn, "StartTransientUnit", "ssa(sv)a(sa(sv))", body)
        except Exception as exc:  # noqa: BLE001 - bus, protocol and timeout errors alike
            if getattr(exc, "code", None) == CODE:
                raise
            raise _failure(f"StartTransientUnit {unit}", exc) from None
        if result != "done":
            raise exec_error(
                f"StartTransientUnit {unit}: the start job ended with {result!r}, not 'done'",
                CODE,
                hint=f"see 'journalctl -u {unit}' and 'systemctl status {unit}'",
            )


def set_unit_properties(unit: str, properties: list[tuple[str, tuple[str, Any]]]) -> None:
    """SetUnitProperties(unit, runtime=true, properties): no job, just the reply.

    ``runtime``: the change lasts until the unit goes (a transient unit has no
    file to persist it in anyway).
    """
    with _connect() as conn:
        try:
            _call(conn, "SetUnitProperties", "sba(sv)", (unit, True, properties))
        except Exception as exc:  # noqa: BLE001
            raise _failure(f"SetUnitProperties {unit}", exc) from None


def stop_unit(unit: str, mode: str) -> None:
    """StopUnit(unit, mode) and wait for its job; a unit that is already gone is fine."""
    with _connect() as conn:
        try:
            _, result = _run_job(conn, "StopUnit", "ss", (unit, mode))
        except BusError as exc:
            if exc.name in GONE:
                return
            raise _failure(f"StopUnit {unit}", exc) from None
        except Exception as exc:  # noqa: BLE001
            raise _failure(f"StopUnit {unit}", exc) from None
        if result != "done":
            raise exec_error(f"StopUnit {unit}: the stop job ended with {result!r}", CODE)
        try:  # noqa: SIM105 - a stopped scope can linger as "failed"; free the name
            _call(conn, "ResetFailedUnit", "s", (unit,))
        except BusError:
            pass
