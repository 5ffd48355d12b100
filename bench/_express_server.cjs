// The seed example on Express 5 + express-session's MemoryStore, and a bare
// Express handler, for the HTTP benchmark. Run by bench/http_bench.ts with
// node, after it installs express and express-session with npm.
const express = require("express");
const session = require("express-session");

const withSessions = express();
withSessions.use(session({
  secret: "benchmark",
  resave: false,
  saveUninitialized: false,
  store: new session.MemoryStore(),
}));
withSessions.get("/put", (req, res) => {
  req.session.message = "Hello from a session!";
  res.end();
});
withSessions.get("/get", (req, res) => {
  res.end(req.session.message ?? "");
});
withSessions.listen(Number(process.env.PORT));

const bare = express();
bare.get("/get", (_req, res) => res.end("Hello from a session!"));
bare.listen(Number(process.env.BARE_PORT));
