// The seed example on Express 5 + express-session, for the HTTP benchmark:
// with REDIS_URL, sessions in Redis through connect-redis; with
// DATABASE_URL, in PostgreSQL through connect-pg-simple (its pool counts
// the statements it runs: GET /_pgstats); otherwise in express-session's
// MemoryStore. Run by bench/http_bench.ts with node, after it installs the
// packages with npm. Listens on PORT.
import express from "express";
import session from "express-session";
import { RedisStore } from "connect-redis";
import { createClient } from "redis";

let store = new session.MemoryStore();
if (process.env.REDIS_URL) {
  const client = await createClient({ url: process.env.REDIS_URL }).connect();
  store = new RedisStore({ client });
}
let queries = 0;
if (process.env.DATABASE_URL) {
  const { default: pg } = await import("pg");
  const { default: pgSession } = await import("connect-pg-simple");
  const pool = new pg.Pool({
    connectionString: process.env.DATABASE_URL,
    max: 20,
  });
  const query = pool.query.bind(pool);
  pool.query = (...args) => (queries++, query(...args));
  store = new (pgSession(session))({ pool, createTableIfMissing: true });
}

const app = express();
app.get("/_pgstats", (_req, res) => res.json({ queries }));
app.use(session({
  secret: "benchmark",
  resave: false,
  saveUninitialized: false,
  store,
}));
app.get("/put", (req, res) => {
  req.session.message = "Hello from a session!";
  res.type("text/plain").end("stored\n");
});
app.get("/count", (req, res) => {
  req.session.count = (req.session.count ?? 0) + 1;
  res.type("text/plain").end(String(req.session.count));
});
app.get("/get", (req, res) => {
  res.end(req.session.message ?? "");
});
app.listen(Number(process.env.PORT));
