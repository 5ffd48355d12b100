// The seed example over PostgresStore for the HTTP benchmark, on
// DATABASE_URL, listening on PORT. The pool counts the statements it runs:
// GET /_pgstats gives the count.

import pg from "npm:pg@8.23.1";
import { SessionManager } from "../mod.ts";
import { PostgresStore } from "../postgres.ts";

const pool = new pg.Pool({
  connectionString: Deno.env.get("DATABASE_URL"),
  max: 20,
});
let queries = 0;
const counted = {
  query(text: string, values?: unknown[]) {
    queries++;
    return pool.query(text, values);
  },
};
const store = new PostgresStore(counted);
await store.createTable();
const sessions = new SessionManager<{ message: string; count: number }>({
  store,
});
const app = sessions.loadAndSave((request, session) => {
  const url = new URL(request.url);
  if (url.pathname === "/put") {
    const message = url.search === "" ? null : url.searchParams.get("message");
    session.put("message", message ?? "Hello from a session!");
    return new Response("stored\n");
  }
  if (url.pathname === "/count") {
    const count = (session.get("count") ?? 0) + 1;
    session.put("count", count);
    return new Response(String(count));
  }
  return new Response(session.get("message") ?? "");
});

Deno.serve({ port: Number(Deno.env.get("PORT")) }, (request) => {
  if (new URL(request.url).pathname === "/_pgstats") {
    return Response.json({ queries });
  }
  return app(request);
});
