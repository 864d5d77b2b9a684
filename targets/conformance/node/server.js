// A payment service on Node's http module and node-postgres (pg), shut down
// the way their documentation says:
//   https://nodejs.org/docs/latest-v20.x/api/http.html#serverclosecallback
//     server.close() "Stops the server from accepting new connections and
//     closes all connections connected to this server which are not sending a
//     request or waiting for a response."
//   https://node-postgres.com/apis/pool#poolend
//     pool.end() "will drain the pool of all active clients, disconnect them,
//     and shut down any internal timers in the pool".
//   https://nodejs.org/docs/latest-v20.x/api/process.html#signal-events
//     "'SIGTERM' and 'SIGINT' have default handlers on non-Windows platforms
//     that reset the terminal mode before exiting with code 128 + signal
//     number. If one of these signals has a listener installed, its default
//     behavior will be removed."
//
//   POST /payments  Idempotency-Key header, {"from":"acct-N","to":"acct-M","amount":K}:
//                   moves the money and records the key in one transaction
//                   (https://node-postgres.com/features/transactions); a known
//                   key gets the first answer again and moves nothing
//   GET  /healthz   200
//
// Listens on 127.0.0.1:$PORT; the database is $DATABASE_URL (pg fills what it
// lacks from PGHOST, PGUSER..., and reads PGAPPNAME). PAYMENT_LATENCY_MS (20)
// is a card processor call made inside each payment's transaction.
//
//   node server.js --mode correct | no-handler | exit-without-pool-end | keep-alive
//
//   correct                SIGTERM/SIGINT: server.close(); every response
//                          from then on says "Connection: close", so the
//                          connections busy at the signal end after their
//                          answer; when the server has closed, pool.end(),
//                          and the process exits 0 with nothing left to do.
//   no-handler             no listener: Node's default action ends the
//                          process by the signal, requests half done.
//   exit-without-pool-end  as correct, but the close callback calls
//                          process.exit(0) without pool.end(): every database
//                          session ends without saying goodbye.
//   keep-alive             server.close() alone, as its doc suggests for
//                          Node >= 19. The connections that were busy at the
//                          signal answer with "Connection: keep-alive" and stay
//                          open: clients go on sending payments on them, the
//                          server goes on serving, and its close callback waits
//                          for every one of those connections to end.
'use strict';
const http = require('node:http');
const { Pool } = require('pg');

const modes = ['correct', 'no-handler', 'exit-without-pool-end', 'keep-alive'];
const modeFlag = process.argv.indexOf('--mode');
const mode = modeFlag > 0 ? process.argv[modeFlag + 1] : 'correct';
if (!modes.includes(mode)) {
  console.error(`unknown --mode ${mode}; one of ${modes.join(', ')}`);
  process.exit(2);
}
const latencyMs = Number(process.env.PAYMENT_LATENCY_MS ?? 20);
const pool = new Pool({ connectionString: process.env.DATABASE_URL, max: 16 });
let stopping = false;

const answer = (status, body) => ({ status, body: JSON.stringify(body) });

// Applies the payment once per key, in one transaction.
async function pay(key, { from, to, amount }) {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    const claimed = await client.query(
      'INSERT INTO idempotency_keys (key) VALUES ($1) ON CONFLICT DO NOTHING', [key]);
    if (claimed.rowCount === 0) { // seen before: the first answer again
      const { rows: [first] } = await client.query(
        'SELECT status, body FROM idempotency_keys WHERE key = $1', [key]);
      await client.query('COMMIT');
      return { status: first.status, body: first.body };
    }
    await new Promise((resolve) => setTimeout(resolve, latencyMs)); // the card processor
    // Both rows locked in id order, so that crossing payments cannot deadlock.
    const { rows } = await client.query(
      'SELECT id, balance FROM accounts WHERE id IN ($1, $2) ORDER BY id FOR UPDATE', [from, to]);
    const source = rows.find((row) => row.id === from);
    let reply;
    if (!source || !rows.some((row) => row.id === to)) {
      reply = answer(404, { error: 'unknown account' });
    } else if (BigInt(source.balance) < BigInt(amount)) {
      reply = answer(422, { error: 'insufficient funds' });
    } else {
      await client.query('UPDATE accounts SET balance = balance - $2 WHERE id = $1', [from, amount]);
      await client.query('UPDATE accounts SET balance = balance + $2 WHERE id = $1', [to, amount]);
      const { rows: [entry] } = await client.query(
        'INSERT INTO ledger (idempotency_key, from_account, to_account, amount)' +
        ' VALUES ($1, $2, $3, $4) RETURNING id', [key, from, to, amount]);
      reply = answer(201, { id: Number(entry.id), from, to, amount, status: 'completed' });
    }
    await client.query('UPDATE idempotency_keys SET status = $2, body = $3 WHERE key = $1',
      [key, reply.status, reply.body]);
    await client.query('COMMIT');
    return reply;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => {});
    throw err;
  } finally {
    client.release();
  }
}

function validate(key, raw) {
  if (!key || key.length > 255) return 'missing or too long Idempotency-Key header';
  let body;
  try { body = JSON.parse(raw); } catch { body = null; }
  if (!body || typeof body.from !== 'string' || typeof body.to !== 'string' ||
      !Number.isSafeInteger(body.amount)) {
    return 'body must be {"from":"acct-N","to":"acct-M","amount":N}';
  }
  if (body.amount <= 0 || body.from === body.to) return 'amount must be positive, from and to must differ';
  return body;
}

async function handlePayment(req) {
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  const key = req.headers['idempotency-key'];
  const payment = validate(key, Buffer.concat(chunks).toString());
  if (typeof payment === 'string') return answer(400, { error: payment });
  try {
    return await pay(key, payment);
  } catch (err) {
    console.error(`payment ${key}: ${err.message}`);
    return answer(503, { error: 'not applied; retry with the same key' });
  }
}

const server = http.createServer(async (req, res) => {
  let reply;
  if (req.method === 'GET' && req.url === '/healthz') reply = { status: 200, body: 'ok\n' };
  else if (req.method === 'POST' && req.url === '/payments') reply = await handlePayment(req);
  else reply = answer(404, { error: 'no such route' });
  // Once stopping, a response tells its client that this connection ends with it.
  if (stopping && mode !== 'keep-alive') res.setHeader('Connection', 'close');
  res.writeHead(reply.status, { 'Content-Type': 'application/json' }).end(reply.body);
});

function shutdown(signal) {
  if (stopping) return;
  stopping = true;
  console.error(`${signal}: shutting down (${mode})`);
  server.close(async () => {
    if (mode === 'exit-without-pool-end') process.exit(0);
    await pool.end();
    console.error('stopped');
  });
}
if (mode !== 'no-handler') {
  process.on('SIGTERM', shutdown);
  process.on('SIGINT', shutdown);
}

server.listen(Number(process.env.PORT), '127.0.0.1', () => {
  console.error(`listening on 127.0.0.1:${process.env.PORT} (mode ${mode})`);
});
