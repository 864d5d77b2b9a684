-- The example service's own schema: names unlike the reference target's, to
-- show that a scenario only needs its audit queries to know them.
CREATE TABLE wallets (
  wallet_no integer PRIMARY KEY,
  cents     bigint  NOT NULL
);

-- One row per request token: what makes a retried transfer happen once.
CREATE TABLE transfers (
  request_token text        PRIMARY KEY,
  source        integer     NOT NULL REFERENCES wallets,
  dest          integer     NOT NULL REFERENCES wallets,
  cents         bigint      NOT NULL CHECK (cents > 0),
  booked_at     timestamptz NOT NULL DEFAULT now()
);
