// A payment service in Go that shuts down the way net/http's documentation
// says: https://pkg.go.dev/net/http#Server.Shutdown and its example
// "ServerShutdown" (a goroutine waits for the signal and calls Shutdown; main
// waits for that goroutine before it returns). Database: database/sql with
// github.com/lib/pq, which reads PGAPPNAME like libpq.
//
//	POST /payments  Idempotency-Key header, {"from":"acct-N","to":"acct-M","amount":K}:
//	                moves the money and records the key in one transaction; a
//	                known key gets the first answer again and moves nothing
//	GET  /healthz   200
//
// Listens on 127.0.0.1:$PORT; the database is $DATABASE_URL (lib/pq fills
// what it lacks from PGHOST, PGUSER...). PAYMENT_LATENCY (20ms) is a card
// processor call made inside each payment's transaction.
//
// --mode selects the shutdown:
//
//	correct       SIGTERM/SIGINT: Server.Shutdown ("first closing all open
//	              listeners, then closing all idle connections, and then waiting
//	              indefinitely for connections to return to idle"), main waits
//	              for it, then db.Close(), exit 0.
//	no-handler    no signal.Notify at all: "A SIGHUP, SIGINT, or SIGTERM signal
//	              causes the program to exit" (https://pkg.go.dev/os/signal,
//	              Default behavior of signals in Go programs).
//	close         Server.Close instead of Shutdown: it "immediately closes all
//	              active net.Listeners and any connections in state StateNew,
//	              StateActive, or StateIdle"; then db.Close(), exit 0.
//	return-early  Shutdown is called, but main returns as soon as
//	              ListenAndServe does, which the doc warns against: "When
//	              Shutdown is called, Serve, ListenAndServe, and
//	              ListenAndServeTLS immediately return ErrServerClosed. Make sure
//	              the program doesn't exit and waits instead for Shutdown to
//	              return." The pool is never closed either.
package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"flag"
	"log"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	_ "github.com/lib/pq"
)

type reply struct {
	status int
	body   []byte
}

func errorReply(status int, message string) reply {
	body, _ := json.Marshal(map[string]string{"error": message})
	return reply{status, body}
}

type payment struct {
	From   string `json:"from"`
	To     string `json:"to"`
	Amount int64  `json:"amount"`
}

type service struct {
	db      *sql.DB
	latency time.Duration
}

// pay applies the payment once per key, in one transaction.
func (s *service) pay(ctx context.Context, key string, p payment) (reply, error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return reply{}, err
	}
	defer tx.Rollback() // a no-op after Commit

	claimed, err := tx.ExecContext(ctx,
		"INSERT INTO idempotency_keys (key) VALUES ($1) ON CONFLICT DO NOTHING", key)
	if err != nil {
		return reply{}, err
	}
	if n, _ := claimed.RowsAffected(); n == 0 { // seen before: the first answer again
		var r reply
		if err := tx.QueryRowContext(ctx,
			"SELECT status, body FROM idempotency_keys WHERE key = $1", key).Scan(&r.status, &r.body); err != nil {
			return reply{}, err
		}
		return r, tx.Commit()
	}

	select { // the card processor, called inside the transaction
	case <-time.After(s.latency):
	case <-ctx.Done():
		return reply{}, ctx.Err()
	}

	// Both rows locked in id order, so that crossing payments cannot deadlock.
	rows, err := tx.QueryContext(ctx,
		"SELECT id, balance FROM accounts WHERE id IN ($1, $2) ORDER BY id FOR UPDATE", p.From, p.To)
	if err != nil {
		return reply{}, err
	}
	fromBalance, toExists := int64(-1), false
	for rows.Next() {
		var id string
		var balance int64
		if err := rows.Scan(&id, &balance); err != nil {
			rows.Close()
			return reply{}, err
		}
		if id == p.From {
			fromBalance = balance
		} else {
			toExists = true
		}
	}
	if err := rows.Close(); err != nil {
		return reply{}, err
	}

	var r reply
	switch {
	case fromBalance < 0 || !toExists:
		r = errorReply(http.StatusNotFound, "unknown account")
	case fromBalance < p.Amount:
		r = errorReply(http.StatusUnprocessableEntity, "insufficient funds")
	default:
		for _, step := range []struct {
			account string
			delta   int64
		}{{p.From, -p.Amount}, {p.To, p.Amount}} {
			if _, err := tx.ExecContext(ctx,
				"UPDATE accounts SET balance = balance + $2 WHERE id = $1", step.account, step.delta); err != nil {
				return reply{}, err
			}
		}
		var id int64
		if err := tx.QueryRowContext(ctx,
			"INSERT INTO ledger (idempotency_key, from_account, to_account, amount) VALUES ($1, $2, $3, $4) RETURNING id",
			key, p.From, p.To, p.Amount).Scan(&id); err != nil {
			return reply{}, err
		}
		body, _ := json.Marshal(map[string]interface{}{
			"id": id, "from": p.From, "to": p.To, "amount": p.Amount, "status": "completed"})
		r = reply{http.StatusCreated, body}
	}
	if _, err := tx.ExecContext(ctx,
		"UPDATE idempotency_keys SET status = $2, body = $3 WHERE key = $1", key, r.status, string(r.body)); err != nil {
		return reply{}, err
	}
	return r, tx.Commit()
}

func (s *service) payments(w http.ResponseWriter, r *http.Request) {
	var answer reply
	var p payment
	key := r.Header.Get("Idempotency-Key")
	switch {
	case r.Method != http.MethodPost:
		answer = errorReply(http.StatusMethodNotAllowed, "POST only")
	case key == "" || len(key) > 255:
		answer = errorReply(http.StatusBadRequest, "missing or too long Idempotency-Key header")
	case json.NewDecoder(r.Body).Decode(&p) != nil || p.From == "" || p.To == "":
		answer = errorReply(http.StatusBadRequest, `body must be {"from":"acct-N","to":"acct-M","amount":N}`)
	case p.Amount <= 0 || p.From == p.To:
		answer = errorReply(http.StatusBadRequest, "amount must be positive, from and to must differ")
	default:
		var err error
		if answer, err = s.pay(r.Context(), key, p); err != nil {
			log.Printf("payment %s: %v", key, err)
			answer = errorReply(http.StatusServiceUnavailable, "not applied; retry with the same key")
		}
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(answer.status)
	w.Write(answer.body)
}

func main() {
	mode := flag.String("mode", "correct", "correct | no-handler | close | return-early")
	flag.Parse()
	switch *mode {
	case "correct", "no-handler", "close", "return-early":
	default:
		log.Fatalf("unknown --mode %q", *mode)
	}
	latency, err := time.ParseDuration(envOr("PAYMENT_LATENCY", "20ms"))
	if err != nil {
		log.Fatalf("PAYMENT_LATENCY: %v", err)
	}

	db, err := sql.Open("postgres", os.Getenv("DATABASE_URL"))
	if err != nil {
		log.Fatal(err)
	}
	db.SetMaxOpenConns(16)
	db.SetMaxIdleConns(16)
	s := &service{db: db, latency: latency}

	mux := http.NewServeMux()
	mux.HandleFunc("/payments", s.payments)
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("ok\n")) })
	srv := &http.Server{Addr: "127.0.0.1:" + os.Getenv("PORT"), Handler: mux}

	shutdownDone := make(chan struct{})
	if *mode != "no-handler" {
		go func() {
			signals := make(chan os.Signal, 1)
			signal.Notify(signals, syscall.SIGTERM, os.Interrupt)
			log.Printf("%v: shutting down (%s)", <-signals, *mode)
			stop := func() error { return srv.Shutdown(context.Background()) }
			if *mode == "close" {
				stop = srv.Close
			}
			if err := stop(); err != nil {
				log.Printf("shutdown: %v", err)
			}
			close(shutdownDone)
		}()
	}

	log.Printf("listening on %s (mode %s)", srv.Addr, *mode)
	if err := srv.ListenAndServe(); !errors.Is(err, http.ErrServerClosed) {
		log.Fatal(err)
	}
	if *mode == "return-early" {
		return
	}
	<-shutdownDone
	if err := db.Close(); err != nil {
		log.Printf("closing the database: %v", err)
	}
	log.Print("stopped")
}

func envOr(name, fallback string) string {
	if value := os.Getenv(name); value != "" {
		return value
	}
	return fallback
}
