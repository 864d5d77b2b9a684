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

-- Background jobs (payment-server --redis URL): one row per time a job took
-- effect. job_id is deliberately NOT unique, like ledger.idempotency_key, so
-- that a job applied twice (bug worker-no-ack-idempotency) shows up here.
-- The harness audits with
--   SELECT job_id, count(*) FROM job_effects GROUP BY 1
CREATE TABLE job_effects (
  id      bigserial   PRIMARY KEY,
  job_id  text        NOT NULL,
  done_at timestamptz DEFAULT now()
);

-- The jobs done, written in the same transaction as the effect: a job run
-- again (claimed, committed, then the worker died before acknowledging it)
-- finds its row and only acknowledges.
CREATE TABLE jobs_done (
  job_id text PRIMARY KEY
);
