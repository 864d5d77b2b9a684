// POST /payments: an idempotent transfer between two accounts.
#ifndef PAYMENT_SERVER_PAYMENTS_H_
#define PAYMENT_SERVER_PAYMENTS_H_

#include <chrono>
#include <optional>
#include <string>

#include "config.h"
#include "db_pool.h"

struct Reply {
  int status = 0;
  std::string body;       // JSON
  bool replayed = false;  // The stored answer to an earlier attempt.
};

struct Payment {
  std::string key;  // The Idempotency-Key header.
  std::string from;
  std::string to;
  long long amount = 0;
};

// Validates a request. Returns the 400 reply if it is malformed; such
// requests are refused before any transaction, so nothing is stored for
// their key and a corrected retry with the same key is processed normally.
std::optional<Reply> parse_payment(const std::string& key, const std::string& body,
                                   Payment* payment);

class PaymentService {
 public:
  // `processor_latency` is the simulated card processor call made inside the
  // transaction; `receipt_dir` is TMPDIR.
  PaymentService(DbPool* pool, std::chrono::milliseconds processor_latency, std::string receipt_dir,
                 Bug bug);

  // Applies the payment once per key, however often it is retried. Every
  // outcome (201, 404, 422) is decided in the transaction and stored with the
  // key. Database trouble is a 503 (nothing was applied, retry) or, if the
  // connection broke during COMMIT, a 500 (outcome unknown). Never throws.
  Reply pay(const Payment& payment);

 private:
  Reply apply(const Payment& payment);
  Reply transfer(pqxx::work& tx, const Payment& payment);
  void call_card_processor() const;
  void settle_in_background(DbPool::Lease db, std::unique_ptr<pqxx::work> tx);
  void write_receipt(const Reply& reply) const;

  DbPool* pool_;
  std::chrono::milliseconds processor_latency_;
  std::string receipt_dir_;
  Bug bug_;
};

#endif  // PAYMENT_SERVER_PAYMENTS_H_
