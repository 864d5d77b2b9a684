-- Schema of the payment-server reference target.

CREATE TABLE accounts (
  id      text   PRIMARY KEY,
  balance bigint NOT NULL
);

-- One row per applied payment. idempotency_key is deliberately NOT unique:
-- the application enforces idempotency through idempotency_keys, so that a
-- server that skips it (bug no-idempotency) shows up as duplicate rows here
-- rather than as a constraint error. The harness audits with
--   SELECT idempotency_key, count(*) FROM ledger GROUP BY 1
CREATE TABLE ledger (
  id              bigserial   PRIMARY KEY,
  idempotency_key text        NOT NULL,
  from_account    text,
  to_account      text,
  amount          bigint,
  created_at      timestamptz DEFAULT now()
);

-- The outcome of each key's first attempt (201, 404 or 422 and its JSON
-- body), written in the same transaction as the payment; retries replay it.
CREATE TABLE idempotency_keys (
  key    text PRIMARY KEY,
  status int,
  body   text
);
