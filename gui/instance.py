"""One window per user and settings file: a second launch hands its files to the first.

The first launch listens on a local socket (a named pipe on Windows, a socket file on Linux and
macOS, through QLocalServer); a later launch connects, sends its paths as one JSON line and
exits, so two windows never race on the same settings and autosave file.
"""

from __future__ import annotations

import getpass
import hashlib
import json

from PySide6.QtCore import QObject, Signal
from PySide6.QtNetwork import QLocalServer, QLocalSocket

from gui import settings

TIMEOUT_MS = 1000


def server_name() -> str:
    """Per user and per settings file (tests with their own settings never meet the user's app)."""
    try:
        user = getpass.getuser()
    except Exception:  # noqa: BLE001 - no user name on this system: one name for all
        user = ""
    key = hashlib.sha1(f"{user}|{settings.file_name()}".encode()).hexdigest()[:16]
    return f"backprop-studio-{key}"


def hand_over(paths: list[str], name: str | None = None) -> bool:
    """Send ``paths`` to a running window; True if one took them (this launch then ends)."""
    sock = QLocalSocket()
    sock.connectToServer(name or server_name())
    if not sock.waitForConnected(TIMEOUT_MS):
        return False
    sock.write((json.dumps(paths) + "\n").encode("utf-8"))
    sock.flush()
    while sock.bytesToWrite() and sock.waitForBytesWritten(TIMEOUT_MS):
        pass
    written = sock.bytesToWrite() == 0
    sock.waitForReadyRead(3 * TIMEOUT_MS)  # the window answers once it has the paths
    sock.disconnectFromServer()
    return written  # a window that is busy still gets them: never a second window on the same files


class InstanceServer(QObject):
    """Listens for later launches; ``paths_received`` carries what each sent (maybe [])."""

    paths_received = Signal(list)

    def __init__(self, name: str | None = None, parent=None):
        super().__init__(parent)
        self.name = name or server_name()
        self.server = QLocalServer(self)
        self.server.newConnection.connect(self._on_connection)
        if not self.server.listen(self.name):  # a stale socket file left by a crash
            QLocalServer.removeServer(self.name)
            self.server.listen(self.name)

    @property
    def listening(self) -> bool:
        return self.server.isListening()

    def _on_connection(self) -> None:
        while self.server.hasPendingConnections():
            sock = self.server.nextPendingConnection()  # a child of the server: deleted with it
            # a slot of this object, not a lambda holding the socket's wrapper: no call can reach a
            # socket (or a server) already deleted when its last events are delivered
            sock.readyRead.connect(self._on_ready_read)
            sock.disconnected.connect(sock.deleteLater)

    def _on_ready_read(self) -> None:
        sock = self.sender()
        if isinstance(sock, QLocalSocket):
            self._read(sock)

    def _read(self, sock) -> None:
        if not sock.canReadLine():
            return
        try:
            paths = json.loads(bytes(sock.readLine()).decode("utf-8"))
        except ValueError:
            paths = []
        sock.write(b"ok\n")
        sock.flush()
        if isinstance(paths, list):
            self.paths_received.emit([str(p) for p in paths])

    def close(self) -> None:
        """Stop listening and drop every connection now (their sockets are deleted later, by Qt)."""
        for sock in self.server.findChildren(QLocalSocket):
            try:
                sock.readyRead.disconnect(self._on_ready_read)
            except (RuntimeError, TypeError):  # already disconnected
                pass
            sock.abort()
            sock.deleteLater()
        self.server.close()
