#!/usr/bin/python3
"""An ASGI payment service run by uvicorn, with an asyncpg pool, shut down
the way uvicorn and the ASGI lifespan protocol say:

  https://www.uvicorn.org/deployment/#running-programmatically  uvicorn.run(app, ...)
  https://asgi.readthedocs.io/en/latest/specs/lifespan.html
      "lifespan.shutdown ... Sent to the application when the server has
      stopped accepting connections and closed all active connections."
  https://magicstack.github.io/asyncpg/current/api/index.html#asyncpg.pool.Pool.close
      "Attempt to gracefully close all connections in the pool."

On SIGTERM or SIGINT uvicorn stops accepting, lets the requests in progress
finish, then sends lifespan.shutdown, and returns from uvicorn.run.

  app.py [--mode correct|pool-left-open]

  correct         the lifespan shutdown closes the pool: each session ends
                  with the protocol's Terminate message.
  pool-left-open  the pool is opened at startup and never closed: the process
                  exits with its sessions open, and PostgreSQL logs
                  "unexpected EOF on client connection" for each.

  POST /payments  Idempotency-Key header, {"from":"acct-N","to":"acct-M","amount":K}
  GET  /healthz   200

Listens on 127.0.0.1:$PORT (uvicorn's default host is 127.0.0.1); the
database is $DATABASE_URL. asyncpg does not read PGAPPNAME.
"""
import argparse
import os
import sys

import uvicorn

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import asyncpg_payment  # noqa: E402  (the payment, shared with aiohttp/app.py)


class Payments:
    """The ASGI application."""

    def __init__(self, mode):
        self.mode = mode
        self.pool = None

    async def lifespan(self, receive, send):
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                self.pool = await asyncpg_payment.create_pool()
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                if self.mode == "correct":
                    await self.pool.close()
                print(f"lifespan shutdown ({self.mode})", flush=True)
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def __call__(self, scope, receive, send):
        if scope["type"] == "lifespan":
            return await self.lifespan(receive, send)
        route = (scope["method"], scope["path"])
        if route == ("GET", "/healthz"):
            status, body = 200, "ok\n"
        elif route == ("POST", "/payments"):
            raw, more = b"", True
            while more:
                message = await receive()
                raw += message.get("body", b"")
                more = message.get("more_body", False)
            key = dict(scope["headers"]).get(b"idempotency-key", b"").decode()
            status, body = await asyncpg_payment.handle(self.pool, key, raw)
        else:
            status, body = 404, '{"error": "no such route"}'
        await send({"type": "http.response.start", "status": status,
                    "headers": [(b"content-type", b"application/json")]})
        await send({"type": "http.response.body", "body": body.encode()})


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--mode", choices=["correct", "pool-left-open"], default="correct")
    args = parser.parse_args()
    uvicorn.run(Payments(args.mode), host="127.0.0.1", port=int(os.environ["PORT"]),
                lifespan="on", access_log=False)


if __name__ == "__main__":
    main()
