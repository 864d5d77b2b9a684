"""The payment of the two asyncio services (uvicorn/app.py, aiohttp/app.py),
with asyncpg: https://magicstack.github.io/asyncpg/current/api/index.html

asyncpg speaks the protocol itself and reads PGHOST, PGUSER... but not
PGAPPNAME: its sessions have no application name unless the code sets one.
"""
import asyncio
import json
import os

import asyncpg

LATENCY = int(os.environ.get("PAYMENT_LATENCY_MS", "20")) / 1000


async def create_pool():
    return await asyncpg.create_pool(os.environ.get("DATABASE_URL"), min_size=2, max_size=16)


def parse(key, raw):
    """(key, source, dest, amount), or an error message for a 400."""
    if not key or len(key) > 255:
        return "missing or too long Idempotency-Key header"
    try:
        request = json.loads(raw)
        source, dest, amount = request["from"], request["to"], request["amount"]
        if not (isinstance(source, str) and isinstance(dest, str) and type(amount) is int):
            raise TypeError
    except (ValueError, KeyError, TypeError):
        return 'body must be {"from":"acct-N","to":"acct-M","amount":N}'
    if amount <= 0 or source == dest:
        return "amount must be positive, from and to must differ"
    return key, source, dest, amount


async def pay(pool, key, source, dest, amount):
    """Applies the payment once per key, in one transaction; returns (status, body)."""
    async with pool.acquire() as connection, connection.transaction():
        claimed = await connection.execute(
            "INSERT INTO idempotency_keys (key) VALUES ($1) ON CONFLICT DO NOTHING", key)
        if claimed == "INSERT 0 0":  # seen before: the first answer again
            first = await connection.fetchrow(
                "SELECT status, body FROM idempotency_keys WHERE key = $1", key)
            return first["status"], first["body"]
        await asyncio.sleep(LATENCY)  # the card processor
        # Both rows locked in id order, so that crossing payments cannot deadlock.
        balances = dict(await connection.fetch(
            "SELECT id, balance FROM accounts WHERE id IN ($1, $2) ORDER BY id FOR UPDATE",
            source, dest))
        if source not in balances or dest not in balances:
            status, body = 404, {"error": "unknown account"}
        elif balances[source] < amount:
            status, body = 422, {"error": "insufficient funds"}
        else:
            await connection.execute(
                "UPDATE accounts SET balance = balance - $2 WHERE id = $1", source, amount)
            await connection.execute(
                "UPDATE accounts SET balance = balance + $2 WHERE id = $1", dest, amount)
            entry = await connection.fetchval(
                "INSERT INTO ledger (idempotency_key, from_account, to_account, amount)"
                " VALUES ($1, $2, $3, $4) RETURNING id", key, source, dest, amount)
            status, body = 201, {"id": entry, "from": source, "to": dest, "amount": amount,
                                 "status": "completed"}
        body = json.dumps(body)
        await connection.execute(
            "UPDATE idempotency_keys SET status = $2, body = $3 WHERE key = $1", key, status, body)
        return status, body


async def handle(pool, key, raw):
    """A POST /payments: (status, body), 503 when the database failed."""
    payment = parse(key, raw)
    if isinstance(payment, str):
        return 400, json.dumps({"error": payment})
    try:
        return await pay(pool, *payment)
    except (asyncpg.PostgresError, asyncpg.InterfaceError, OSError) as e:
        print(f"payment {key}: {e!r}", flush=True)
        return 503, json.dumps({"error": "not applied; retry with the same key"})
