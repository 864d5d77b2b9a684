#!/usr/bin/python3
"""An aiohttp payment service with an asyncpg pool, shut down the way
aiohttp 3.8's documentation says:

  https://docs.aiohttp.org/en/v3.8.4/web_advanced.html#graceful-shutdown
      web.run_app() handles SIGINT and SIGTERM: it stops accepting, waits up
      to shutdown_timeout for the handlers in progress, then runs the
      application's on_cleanup callbacks.
  https://docs.aiohttp.org/en/v3.8.4/web_advanced.html#signals
      on_startup opens the pool; on_cleanup, which run_app calls after the
      handlers in progress have finished, closes it.

There is one mode: this is how the documentation says to write it.

  POST /payments  Idempotency-Key header, {"from":"acct-N","to":"acct-M","amount":K}
  GET  /healthz   200

Listens on 127.0.0.1:$PORT (run_app's default host is 0.0.0.0, so it is given
explicitly); the database is $DATABASE_URL. asyncpg does not read PGAPPNAME.
"""
import os
import sys

from aiohttp import web

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import asyncpg_payment  # noqa: E402  (the payment, shared with uvicorn/app.py)

async def open_pool(app):
    app["pool"] = await asyncpg_payment.create_pool()


async def close_pool(app):
    await app["pool"].close()
    print("database pool closed", flush=True)


async def payments(request):
    status, body = await asyncpg_payment.handle(
        request.app["pool"], request.headers.get("Idempotency-Key", ""), await request.read())
    return web.Response(status=status, text=body, content_type="application/json")


async def healthz(request):
    return web.Response(text="ok\n")


def main():
    app = web.Application()
    app.on_startup.append(open_pool)
    app.on_cleanup.append(close_pool)
    app.add_routes([web.post("/payments", payments), web.get("/healthz", healthz)])
    web.run_app(app, host="127.0.0.1", port=int(os.environ["PORT"]), shutdown_timeout=10,
                access_log=None)


if __name__ == "__main__":
    main()
