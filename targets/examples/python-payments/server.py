#!/usr/bin/python3
"""A minimal payment service that shuts down gracefully: Python 3's standard
library (http.server) and psycopg2, both from Debian.

  PUT /v1/transfers   header X-Request-Token, body {"source": 1, "dest": 2, "cents": 50}
                      moves the cents in one transaction; a token seen before
                      returns the first answer and moves nothing again
  GET /status/live    200 while serving, 503 once draining

On SIGTERM or SIGINT: stop accepting (close the listening socket), let every
request in progress finish and commit, close idle keep-alive connections,
close the database pool (each session says goodbye to PostgreSQL), exit 0.

  server.py [--port PORT]      the port defaults to $PORT; the database is $DATABASE_URL
"""
import argparse
import json
import os
import signal
import socket
import socketserver
import sys
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import psycopg2
import psycopg2.pool

draining = threading.Event()


def log(message):
    print(message, file=sys.stderr, flush=True)


class TransferError(Exception):
    """A request the service refuses: 400, nothing applied."""


def transfer(pool, token, body):
    """Applies the transfer once per token; returns (status, answer)."""
    try:
        source, dest, cents = int(body["source"]), int(body["dest"]), int(body["cents"])
    except (KeyError, TypeError, ValueError) as e:
        raise TransferError(f"bad body: {e}") from e
    if source == dest or cents <= 0:
        raise TransferError("source and dest must differ, cents must be positive")
    connection = pool.getconn()
    try:
        with connection, connection.cursor() as cursor:  # one transaction
            cursor.execute(
                "INSERT INTO transfers (request_token, source, dest, cents) VALUES (%s, %s, %s, %s)"
                " ON CONFLICT (request_token) DO NOTHING RETURNING booked_at",
                (token, source, dest, cents))
            if cursor.fetchone() is None:  # seen before: the first answer again
                cursor.execute("SELECT source, dest, cents FROM transfers WHERE request_token = %s",
                               (token,))
                source, dest, cents = cursor.fetchone()
                return 200, {"token": token, "source": source, "dest": dest, "cents": cents,
                             "replayed": True}
            # Rows locked in one order, so that crossing transfers cannot deadlock.
            for wallet, delta in sorted([(source, -cents), (dest, cents)]):
                cursor.execute("UPDATE wallets SET cents = cents + %s WHERE wallet_no = %s",
                               (delta, wallet))
                if cursor.rowcount != 1:
                    raise TransferError(f"no wallet {wallet}")
        return 201, {"token": token, "source": source, "dest": dest, "cents": cents}
    finally:
        pool.putconn(connection)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive
    # An idle keep-alive connection is closed after this long, so that a
    # drain waits for requests, not for clients that have none to send.
    timeout = 0.25

    def setup(self):
        super().setup()
        # Headers and body are two writes: without this, Nagle's algorithm
        # and the client's delayed ACK hold the body back ~40 ms.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def answer(self, status, document):
        payload = json.dumps(document).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        if draining.is_set():
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        self.wfile.write(payload)

    def do_GET(self):
        if self.path != "/status/live":
            return self.answer(404, {"error": "no such route"})
        self.answer(503 if draining.is_set() else 200, {"draining": draining.is_set()})

    def do_PUT(self):
        if self.path != "/v1/transfers":
            return self.answer(404, {"error": "no such route"})
        token = self.headers.get("X-Request-Token", "")
        length = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(length)
        if not token:
            return self.answer(400, {"error": "X-Request-Token is required"})
        try:
            self.answer(*transfer(self.server.pool, token, json.loads(body)))
        except (TransferError, json.JSONDecodeError) as e:
            self.answer(400, {"error": str(e)})
        except psycopg2.Error as e:
            log(f"database error: {e}")
            self.answer(500, {"error": "database error"})

    def log_message(self, format, *args):
        pass  # one line per request would drown the log


class Server(socketserver.ThreadingMixIn, HTTPServer):
    # Request threads are joined by server_close(): that is the drain.
    daemon_threads = False
    block_on_close = True


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8080")))
    arguments = parser.parse_args()

    # libpq takes the application name from PGAPPNAME, as lastcall expects.
    # psycopg2's pool keeps at most minconn idle connections and closes the
    # others when they are put back, so minconn is what requests reuse.
    pool = psycopg2.pool.ThreadedConnectionPool(8, 32, os.environ["DATABASE_URL"])
    server = Server(("127.0.0.1", arguments.port), Handler)
    server.pool = pool
    stop = threading.Event()

    def on_signal(number, frame):
        log(f"{signal.Signals(number).name}: draining")
        draining.set()
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    serving = threading.Thread(target=server.serve_forever, name="accept")
    serving.start()
    log(f"listening on 127.0.0.1:{arguments.port}")
    stop.wait()
    # Reverse order of acquisition: stop accepting, drain, then the pool.
    server.shutdown()      # the accept loop ends
    serving.join()
    server.server_close()  # the listening socket closes; request threads are joined
    pool.closeall()
    log("drained; exiting")
    return 0


if __name__ == "__main__":
    sys.exit(main())
