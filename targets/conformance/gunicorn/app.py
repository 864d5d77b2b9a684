"""A WSGI payment service run by gunicorn with psycopg2, set up the way
gunicorn's documentation says.

This one file is both the WSGI application (``app:application``) and
gunicorn's configuration file (``--config app.py``; its settings and server
hooks are module-level names, https://docs.gunicorn.org/en/20.1.0/configure.html):

  gunicorn --config app.py --pythonpath DIR app:application

  POST /payments  Idempotency-Key header, {"from":"acct-N","to":"acct-M","amount":K}:
                  moves the money and records the key in one transaction; a
                  known key gets the first answer again and moves nothing
  GET  /healthz   200

Listens on 127.0.0.1:$PORT with 4 sync workers (gunicorn's default bind is
127.0.0.1:8000); the database is $DATABASE_URL (libpq fills what it lacks
from PGHOST, PGUSER..., and reads PGAPPNAME). PAYMENT_LATENCY_MS (20) is a
card processor call made inside each payment's transaction. Each worker has
one database connection, opened at its first payment and closed by the
worker_exit server hook ("Called just after a worker has been exited, in the
worker process").

There is no mode flag: the same service is judged under the two signals whose
meaning https://docs.gunicorn.org/en/20.1.0/signals.html gives for the master:
  TERM     "Graceful shutdown. Waits for workers to finish their current
           requests up to the graceful_timeout."
  INT/QUIT "Quick shutdown"
"""
import json
import os
import time
from http import HTTPStatus

import psycopg2

# gunicorn settings (read when this file is loaded with --config).
bind = "127.0.0.1:" + os.environ.get("PORT", "8000")
workers = 4
graceful_timeout = 10
accesslog = None


def worker_exit(server, worker):
    """gunicorn server hook: closes the worker's database connection."""
    worker.wsgi.close()


class Payments:
    """The WSGI application: one instance per worker process."""

    def __init__(self):
        self.connection = None
        self.latency = int(os.environ.get("PAYMENT_LATENCY_MS", "20")) / 1000

    def close(self):
        if self.connection is not None:
            self.connection.close()
            self.connection = None

    def pay(self, key, source, dest, amount):
        """Applies the payment once per key; returns (status, body)."""
        if self.connection is None:
            self.connection = psycopg2.connect(os.environ.get("DATABASE_URL", ""))
        with self.connection, self.connection.cursor() as cursor:  # one transaction
            cursor.execute("INSERT INTO idempotency_keys (key) VALUES (%s) ON CONFLICT DO NOTHING",
                           (key,))
            if cursor.rowcount == 0:  # seen before: the first answer again
                cursor.execute("SELECT status, body FROM idempotency_keys WHERE key = %s", (key,))
                return cursor.fetchone()
            time.sleep(self.latency)  # the card processor
            # Both rows locked in id order, so that crossing payments cannot deadlock.
            cursor.execute("SELECT id, balance FROM accounts WHERE id IN (%s, %s) ORDER BY id"
                           " FOR UPDATE", (source, dest))
            balances = dict(cursor.fetchall())
            if source not in balances or dest not in balances:
                status, body = 404, {"error": "unknown account"}
            elif balances[source] < amount:
                status, body = 422, {"error": "insufficient funds"}
            else:
                cursor.execute("UPDATE accounts SET balance = balance - %s WHERE id = %s",
                               (amount, source))
                cursor.execute("UPDATE accounts SET balance = balance + %s WHERE id = %s",
                               (amount, dest))
                cursor.execute("INSERT INTO ledger (idempotency_key, from_account, to_account,"
                               " amount) VALUES (%s, %s, %s, %s) RETURNING id",
                               (key, source, dest, amount))
                status, body = 201, {"id": cursor.fetchone()[0], "from": source, "to": dest,
                                     "amount": amount, "status": "completed"}
            body = json.dumps(body)
            cursor.execute("UPDATE idempotency_keys SET status = %s, body = %s WHERE key = %s",
                           (status, body, key))
            return status, body

    def payment(self, environ):
        key = environ.get("HTTP_IDEMPOTENCY_KEY", "")
        if not key or len(key) > 255:
            return 400, json.dumps({"error": "missing or too long Idempotency-Key header"})
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
            request = json.loads(environ["wsgi.input"].read(length))
            source, dest, amount = request["from"], request["to"], request["amount"]
            if not (isinstance(source, str) and isinstance(dest, str) and type(amount) is int):
                raise TypeError
        except (ValueError, KeyError, TypeError):
            return 400, json.dumps({"error": 'body must be {"from":"acct-N","to":"acct-M",'
                                             '"amount":N}'})
        if amount <= 0 or source == dest:
            return 400, json.dumps({"error": "amount must be positive, from and to must differ"})
        try:
            return self.pay(key, source, dest, amount)
        except psycopg2.Error as e:
            print(f"payment {key}: {e}", flush=True)
            self.close()  # a broken connection is opened again at the next payment
            return 503, json.dumps({"error": "not applied; retry with the same key"})

    def __call__(self, environ, start_response):
        route = (environ["REQUEST_METHOD"], environ["PATH_INFO"])
        if route == ("GET", "/healthz"):
            status, body = 200, "ok\n"
        elif route == ("POST", "/payments"):
            status, body = self.payment(environ)
        else:
            status, body = 404, json.dumps({"error": "no such route"})
        start_response(f"{status} {HTTPStatus(status).phrase}",
                       [("Content-Type", "application/json")])
        return [body.encode()]


application = Payments()
