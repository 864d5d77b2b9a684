/*
 * A payment service on the JDK's com.sun.net.httpserver.HttpServer and JDBC
 * (the PostgreSQL JDBC driver), shut down the way their documentation says:
 *
 *   https://docs.oracle.com/en/java/javase/17/docs/api/jdk.httpserver/com/sun/net/httpserver/HttpServer.html#stop(int)
 *     "Stops this server by closing the listening socket and disallowing any
 *     new exchanges from being processed. The method will then block until
 *     all current exchange handlers have completed or else when approximately
 *     delay seconds have elapsed (whichever happens sooner). Then, all open
 *     TCP connections are closed"
 *   https://docs.oracle.com/en/java/javase/17/docs/api/java.base/java/lang/Runtime.html#addShutdownHook(java.lang.Thread)
 *     the JVM runs its shutdown hooks when it "is terminated in response to
 *     a user interrupt, such as typing ^C, or a system-wide event"; it then
 *     exits with status 128 + the signal (143 after SIGTERM).
 *   https://docs.oracle.com/en/java/javase/17/docs/api/java.sql/java/sql/Connection.html#close()
 *
 *   POST /payments  Idempotency-Key header, {"from":"acct-N","to":"acct-M","amount":K}:
 *                   moves the money and records the key in one transaction; a
 *                   known key gets the first answer again and moves nothing
 *   GET  /healthz   200
 *
 * Listens on 127.0.0.1:$PORT. The database is $DATABASE_URL
 * (postgresql://user:password@host:port/db, turned into a JDBC URL), or the
 * PGHOST, PGPORT, PGDATABASE, PGUSER, PGPASSWORD variables without it; the
 * JDBC driver does not read PGAPPNAME. PAYMENT_LATENCY_MS (20) is a card
 * processor call made inside each payment's transaction.
 *
 *   java -jar payments.jar --mode correct | stop-zero | connections-left-open
 *
 *   correct                the shutdown hook calls server.stop(2), waits for
 *                          the handler threads, then closes every JDBC
 *                          connection.
 *   stop-zero              server.stop(0): the connections of the exchanges
 *                          in progress are closed at once, before their
 *                          answers.
 *   connections-left-open  as correct, but the JDBC connections are never
 *                          closed: the JVM exits with its sessions open.
 */
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

public final class Payments {
    private static final int THREADS = 16;

    private record Reply(int status, String body) {
        static Reply error(int status, String message) {
            return new Reply(status, "{\"error\":\"" + message.replace("\"", "\\\"") + "\"}");
        }
    }

    private final String jdbcUrl;
    private final Properties credentials;
    private final long latencyMs;
    // Connections not in use; each handler thread takes one for a payment.
    private final ConcurrentLinkedQueue<Connection> idle = new ConcurrentLinkedQueue<>();
    private final List<Connection> opened = new java.util.concurrent.CopyOnWriteArrayList<>();

    private Payments(String jdbcUrl, Properties credentials, long latencyMs) {
        this.jdbcUrl = jdbcUrl;
        this.credentials = credentials;
        this.latencyMs = latencyMs;
    }

    /** DATABASE_URL (postgresql://user:password@host:port/db?params) as a JDBC URL and credentials. */
    private static Payments fromEnvironment() {
        Map<String, String> env = System.getenv();
        Properties credentials = new Properties();
        String url = env.get("DATABASE_URL");
        String jdbcUrl;
        if (url != null && !url.isEmpty()) {
            URI uri = URI.create(url);
            String userInfo = uri.getRawUserInfo();
            if (userInfo != null) {
                String[] parts = userInfo.split(":", 2);
                credentials.setProperty("user", URLDecoder.decode(parts[0], StandardCharsets.UTF_8));
                if (parts.length == 2)
                    credentials.setProperty("password", URLDecoder.decode(parts[1], StandardCharsets.UTF_8));
            }
            jdbcUrl = "jdbc:postgresql://" + uri.getHost() + (uri.getPort() > 0 ? ":" + uri.getPort() : "")
                    + uri.getRawPath() + (uri.getRawQuery() != null ? "?" + uri.getRawQuery() : "");
        } else {
            jdbcUrl = "jdbc:postgresql://" + env.getOrDefault("PGHOST", "localhost") + ":"
                    + env.getOrDefault("PGPORT", "5432") + "/" + env.getOrDefault("PGDATABASE", "postgres");
            if (env.containsKey("PGUSER")) credentials.setProperty("user", env.get("PGUSER"));
            if (env.containsKey("PGPASSWORD")) credentials.setProperty("password", env.get("PGPASSWORD"));
        }
        return new Payments(jdbcUrl, credentials,
                Long.parseLong(env.getOrDefault("PAYMENT_LATENCY_MS", "20")));
    }

    private Connection take() throws SQLException {
        Connection connection = idle.poll();
        if (connection != null) return connection;
        connection = DriverManager.getConnection(jdbcUrl, credentials);
        connection.setAutoCommit(false);
        opened.add(connection);
        return connection;
    }

    private void closeAll() {
        for (Connection connection : opened) {
            try {
                connection.close();
            } catch (SQLException e) {
                System.err.println("closing a connection: " + e.getMessage());
            }
        }
    }

    /** Applies the payment once per key, in one transaction. */
    private Reply pay(Connection db, String key, String from, String to, long amount)
            throws SQLException, InterruptedException {
        try (PreparedStatement claim = db.prepareStatement(
                "INSERT INTO idempotency_keys (key) VALUES (?) ON CONFLICT DO NOTHING")) {
            claim.setString(1, key);
            if (claim.executeUpdate() == 0) { // seen before: the first answer again
                try (PreparedStatement first = db.prepareStatement(
                        "SELECT status, body FROM idempotency_keys WHERE key = ?")) {
                    first.setString(1, key);
                    try (ResultSet row = first.executeQuery()) {
                        row.next();
                        Reply reply = new Reply(row.getInt(1), row.getString(2));
                        db.commit();
                        return reply;
                    }
                }
            }
        }
        Thread.sleep(latencyMs); // the card processor
        long fromBalance = -1;
        boolean toExists = false;
        // Both rows locked in id order, so that crossing payments cannot deadlock.
        try (PreparedStatement lock = db.prepareStatement(
                "SELECT id, balance FROM accounts WHERE id IN (?, ?) ORDER BY id FOR UPDATE")) {
            lock.setString(1, from);
            lock.setString(2, to);
            try (ResultSet rows = lock.executeQuery()) {
                while (rows.next()) {
                    if (rows.getString(1).equals(from)) fromBalance = rows.getLong(2);
                    else toExists = true;
                }
            }
        }
        Reply reply;
        if (fromBalance < 0 || !toExists) {
            reply = Reply.error(404, "unknown account");
        } else if (fromBalance < amount) {
            reply = Reply.error(422, "insufficient funds");
        } else {
            try (PreparedStatement move = db.prepareStatement(
                    "UPDATE accounts SET balance = balance + ? WHERE id = ?")) {
                move.setLong(1, -amount);
                move.setString(2, from);
                move.addBatch();
                move.setLong(1, amount);
                move.setString(2, to);
                move.addBatch();
                move.executeBatch();
            }
            try (PreparedStatement entry = db.prepareStatement(
                    "INSERT INTO ledger (idempotency_key, from_account, to_account, amount)"
                            + " VALUES (?, ?, ?, ?) RETURNING id")) {
                entry.setString(1, key);
                entry.setString(2, from);
                entry.setString(3, to);
                entry.setLong(4, amount);
                try (ResultSet id = entry.executeQuery()) {
                    id.next();
                    reply = new Reply(201, String.format(
                            "{\"id\":%d,\"from\":\"%s\",\"to\":\"%s\",\"amount\":%d,\"status\":\"completed\"}",
                            id.getLong(1), from, to, amount));
                }
            }
        }
        try (PreparedStatement store = db.prepareStatement(
                "UPDATE idempotency_keys SET status = ?, body = ? WHERE key = ?")) {
            store.setInt(1, reply.status());
            store.setString(2, reply.body());
            store.setString(3, key);
            store.executeUpdate();
        }
        db.commit();
        return reply;
    }

    // The body's three fields; the JDK has no JSON parser, and the body is flat.
    private static final Pattern FIELD = Pattern.compile(
            "\"(from|to|amount)\"\\s*:\\s*(\"(acct-[0-9]+)\"|(-?[0-9]+))");

    private Reply payment(HttpExchange exchange) throws IOException {
        String key = exchange.getRequestHeaders().getFirst("Idempotency-Key");
        String body = new String(exchange.getRequestBody().readAllBytes(), StandardCharsets.UTF_8);
        if (key == null || key.isEmpty() || key.length() > 255)
            return Reply.error(400, "missing or too long Idempotency-Key header");
        String from = null, to = null;
        Long amount = null;
        Matcher field = FIELD.matcher(body);
        while (field.find()) {
            switch (field.group(1)) {
                case "from" -> from = field.group(3);
                case "to" -> to = field.group(3);
                default -> amount = field.group(4) == null ? null : Long.valueOf(field.group(4));
            }
        }
        if (from == null || to == null || amount == null)
            return Reply.error(400, "body must be {\"from\":\"acct-N\",\"to\":\"acct-M\",\"amount\":N}");
        if (amount <= 0 || from.equals(to))
            return Reply.error(400, "amount must be positive, from and to must differ");
        Connection db = null;
        try {
            db = take();
            Reply reply = pay(db, key, from, to, amount);
            idle.add(db);
            return reply;
        } catch (SQLException | InterruptedException e) {
            System.err.println("payment " + key + ": " + e.getMessage());
            if (db != null) {
                try {
                    db.rollback();
                    idle.add(db);
                } catch (SQLException broken) { // the connection is gone: forget it
                    opened.remove(db);
                    try {
                        db.close();
                    } catch (SQLException ignored) {
                    }
                }
            }
            return Reply.error(503, "not applied; retry with the same key");
        }
    }

    private static void send(HttpExchange exchange, Reply reply) throws IOException {
        byte[] bytes = reply.body().getBytes(StandardCharsets.UTF_8);
        exchange.getResponseHeaders().set("Content-Type", "application/json");
        exchange.sendResponseHeaders(reply.status(), bytes.length);
        try (var out = exchange.getResponseBody()) {
            out.write(bytes);
        }
    }

    public static void main(String[] args) throws IOException {
        String mode = args.length == 2 && args[0].equals("--mode") ? args[1] : "correct";
        if (!List.of("correct", "stop-zero", "connections-left-open").contains(mode)) {
            System.err.println("usage: --mode correct|stop-zero|connections-left-open");
            System.exit(2);
        }
        Payments payments = fromEnvironment();
        int port = Integer.parseInt(System.getenv("PORT"));
        HttpServer server = HttpServer.create(
                new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 0);
        ExecutorService handlers = Executors.newFixedThreadPool(THREADS);
        server.setExecutor(handlers);
        server.createContext("/payments", exchange -> send(exchange,
                exchange.getRequestMethod().equals("POST") ? payments.payment(exchange)
                        : Reply.error(405, "POST only")));
        server.createContext("/healthz", exchange -> send(exchange, new Reply(200, "ok\n")));

        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            System.err.println("shutting down (" + mode + ")");
            server.stop(mode.equals("stop-zero") ? 0 : 2);
            handlers.shutdown();
            try {
                handlers.awaitTermination(5, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            if (!mode.equals("connections-left-open")) payments.closeAll();
            System.err.println("stopped");
        }));
        server.start();
        System.err.println("listening on 127.0.0.1:" + port + " (mode " + mode + ")");
    }
}
