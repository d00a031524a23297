"""The suite runs with the network blocked (``tests/conftest.py``)."""
import socket
import threading
import time

import pytest

OUTSIDE = ('93.184.216.34', 80)  # example.com


@pytest.mark.parametrize('how', ['connect', 'connect_ex', 'create'])
def test_outside_connection_refused_at_once(how: str) -> None:
    """Connecting out raises immediately, before any packet is sent."""
    start = time.perf_counter()
    with pytest.raises(OSError, match='network access is blocked'):
        if how == 'create':
            socket.create_connection(OUTSIDE, timeout=5)
        else:
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
                sock.settimeout(5)
                getattr(sock, how)(OUTSIDE)
    assert time.perf_counter() - start < 0.5


def test_host_names_refused_without_lookup() -> None:
    """A host name (other than localhost) is refused before resolving."""
    with pytest.raises(OSError, match='network access is blocked'):
        socket.create_connection(('example.com', 443), timeout=5)
    with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as sock:
        with pytest.raises(OSError, match='network access is blocked'):
            sock.connect(('2606:2800:220:1::1', 80, 0, 0))


def _echo_server(family: int, host: str) -> tuple:
    """A one-shot echo server on ``host``; returns (thread, address)."""
    server = socket.socket(family, socket.SOCK_STREAM)
    server.bind((host, 0))
    server.listen(1)
    address = server.getsockname()

    def serve() -> None:
        with server:
            conn, _ = server.accept()
            with conn:
                conn.sendall(conn.recv(16))

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    return thread, address


@pytest.mark.parametrize('how', ['connect', 'connect_ex', 'create'])
def test_loopback_still_works(how: str) -> None:
    thread, address = _echo_server(socket.AF_INET, '127.0.0.1')
    if how == 'create':
        sock = socket.create_connection(('localhost', address[1]), timeout=5)
    else:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.settimeout(5)
        assert getattr(sock, how)(address) in (None, 0)
    with sock:
        sock.sendall(b'ping')
        assert sock.recv(16) == b'ping'
    thread.join(5)


def test_unix_socket_connect_works(tmp_path) -> None:
    path = str(tmp_path / 'sock')
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as server:
        server.bind(path)
        server.listen(1)
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as client:
            client.connect(path)
            conn, _ = server.accept()
            with conn:
                client.sendall(b'x')
                assert conn.recv(1) == b'x'
