"""``TYPE_CHECKING`` for modules on the container start path, without importing ``typing``.

``typing.TYPE_CHECKING`` is False at run time and True for type checkers; mypy
treats any name ``TYPE_CHECKING`` the same way, so this constant works in
``if TYPE_CHECKING:`` blocks. Importing ``typing`` itself (with ``re`` and
``collections`` behind it) is a measurable share of ``ocitool exec`` and
``ocitool-runc`` short commands (bench/README.md, "TYPE_CHECKING"), so the modules
those commands import take the constant from here. Other modules use
``typing.TYPE_CHECKING`` as usual.
"""

TYPE_CHECKING = False
