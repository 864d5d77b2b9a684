#include "payments.h"

#include <stdlib.h>
#include <unistd.h>

#include <thread>
#include <utility>

#include <nlohmann/json.hpp>

#include "log.h"

namespace {

using nlohmann::json;

// How long a request waits for a free database connection before it is
// answered 503.
constexpr std::chrono::seconds kPoolWait{5};

Reply error_reply(int status, const std::string& message) {
  return {status, json{{"error", message}}.dump()};
}

// True if this transaction is the first to see `key`. If another
// transaction holds the key uncommitted, the INSERT waits for it to finish:
// two concurrent attempts with one key never both proceed.
bool claim_key(pqxx::work& tx, const std::string& key) {
  pqxx::result inserted =
      tx.exec_params("INSERT INTO idempotency_keys (key) VALUES ($1) ON CONFLICT DO NOTHING", key);
  return inserted.affected_rows() == 1;
}

Reply stored_reply(pqxx::work& tx, const std::string& key) {
  pqxx::row row = tx.exec_params1("SELECT status, body FROM idempotency_keys WHERE key = $1", key);
  tx.commit();
  return {row[0].as<int>(), row[1].as<std::string>(), /*replayed=*/true};
}

void store_reply(pqxx::work& tx, const std::string& key, const Reply& reply) {
  tx.exec_params("UPDATE idempotency_keys SET status = $2, body = $3 WHERE key = $1", key,
                 reply.status, reply.body);
}

}  // namespace

std::optional<Reply> parse_payment(const std::string& key, const std::string& body,
                                   Payment* payment) {
  if (key.empty()) return error_reply(400, "missing Idempotency-Key header");
  if (key.size() > 255) return error_reply(400, "Idempotency-Key too long");
  json request = json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (!request.is_object() || !request.contains("from") || !request.contains("to") ||
      !request.contains("amount") || !request["from"].is_string() || !request["to"].is_string() ||
      !request["amount"].is_number_integer()) {
    return error_reply(400, R"(body must be {"from":"acct-N","to":"acct-M","amount":N})");
  }
  payment->key = key;
  payment->from = request["from"].get<std::string>();
  payment->to = request["to"].get<std::string>();
  if (request["amount"].is_number_unsigned() &&
      request["amount"].get<unsigned long long>() > 1'000'000'000'000ULL) {
    return error_reply(400, "amount too large");
  }
  payment->amount = request["amount"].get<long long>();
  if (payment->amount <= 0) return error_reply(400, "amount must be positive");
  if (payment->from == payment->to) return error_reply(400, "from and to must differ");
  return std::nullopt;
}

PaymentService::PaymentService(DbPool* pool, std::chrono::milliseconds processor_latency,
                               std::string receipt_dir, Bug bug)
    : pool_(pool),
      processor_latency_(processor_latency),
      receipt_dir_(std::move(receipt_dir)),
      bug_(bug) {}

Reply PaymentService::pay(const Payment& payment) {
  try {
    return apply(payment);
  } catch (const pqxx::in_doubt_error& e) {
    // The COMMIT was sent but its answer lost: it may or may not have
    // happened, so a 503 ("not applied") would be a lie.
    log_line("payment " + payment.key + ": commit outcome unknown: " + e.what());
    return error_reply(500, "outcome unknown; retry with the same key");
  } catch (const std::exception& e) {
    // Anything else failed before COMMIT: the transaction rolled back.
    log_line("payment " + payment.key + ": " + e.what());
    return error_reply(503, "database unavailable; retry with the same key");
  }
}

Reply PaymentService::apply(const Payment& payment) {
  DbPool::Lease db = pool_->acquire(kPoolWait);
  auto tx = std::make_unique<pqxx::work>(*db);
  bool first_attempt = claim_key(*tx, payment.key);
  // bug no-idempotency: the key is recorded but its answer never consulted.
  if (!first_attempt && bug_ != Bug::kNoIdempotency) return stored_reply(*tx, payment.key);

  if (bug_ == Bug::kRespondBeforeCommit) {
    // bug respond-before-commit: "the card processor is slow, so answer now
    // and settle afterwards" (on a thread nobody waits for).
    Reply reply = transfer(*tx, payment);
    settle_in_background(std::move(db), std::move(tx));
    return reply;
  }
  call_card_processor();
  Reply reply = transfer(*tx, payment);
  tx->commit();
  // bug leak-tempfiles: receipts for a mailer that never deletes them.
  if (bug_ == Bug::kLeakTempfiles && reply.status == 201) write_receipt(reply);
  return reply;
}

// Moves the money, or decides why not, and stores the outcome with the key.
Reply PaymentService::transfer(pqxx::work& tx, const Payment& payment) {
  // Both rows are locked in id order, whichever way the money flows, so two
  // opposite transfers cannot deadlock. (The Sort runs below the LockRows
  // step in the plan, so rows are locked in the order they are returned.)
  pqxx::result accounts = tx.exec_params(
      "SELECT id, balance FROM accounts WHERE id IN ($1, $2) ORDER BY id "
      "FOR UPDATE",
      payment.from, payment.to);
  long long from_balance = -1;
  bool to_exists = false;
  for (const pqxx::row& account : accounts) {
    if (account[0].as<std::string>() == payment.from)
      from_balance = account[1].as<long long>();
    else
      to_exists = true;
  }

  Reply reply;
  if (from_balance < 0 || !to_exists) {
    std::string unknown = from_balance < 0 ? payment.from : payment.to;
    reply = {404, json{{"error", "unknown account"}, {"account", unknown}}.dump()};
  } else if (from_balance < payment.amount) {
    reply = error_reply(422, "insufficient funds");
  } else {
    tx.exec_params("UPDATE accounts SET balance = balance - $2 WHERE id = $1", payment.from,
                   payment.amount);
    tx.exec_params("UPDATE accounts SET balance = balance + $2 WHERE id = $1", payment.to,
                   payment.amount);
    pqxx::row entry = tx.exec_params1(
        "INSERT INTO ledger (idempotency_key, from_account, to_account, amount)"
        " VALUES ($1, $2, $3, $4) RETURNING id",
        payment.key, payment.from, payment.to, payment.amount);
    reply = {201, json{{"id", entry[0].as<long long>()},
                       {"from", payment.from},
                       {"to", payment.to},
                       {"amount", payment.amount},
                       {"status", "completed"}}
                      .dump()};
  }
  store_reply(tx, payment.key, reply);
  return reply;
}

// Stands in for the card processor's API call, made while our transaction
// is open, as real payment code does between its first write and COMMIT.
void PaymentService::call_card_processor() const {
  std::this_thread::sleep_for(processor_latency_);
}

void PaymentService::settle_in_background(DbPool::Lease db, std::unique_ptr<pqxx::work> tx) {
  std::thread([latency = processor_latency_, db = std::move(db), tx = std::move(tx)]() mutable {
    std::this_thread::sleep_for(latency);  // The card processor call.
    try {
      tx->commit();
    } catch (const std::exception& e) {
      log_line(std::string("settlement failed: ") + e.what());
    }
    tx.reset();  // The transaction must end before its connection goes back.
  }).detach();
}

// Leaves a copy of each receipt in TMPDIR for the mailer to pick up.
void PaymentService::write_receipt(const Reply& reply) const {
  std::string path = receipt_dir_ + "/receipt-XXXXXX";
  int fd = ::mkstemp(path.data());
  if (fd < 0) return;
  ssize_t ignored = ::write(fd, reply.body.data(), reply.body.size());
  (void)ignored;
  ::close(fd);
}
