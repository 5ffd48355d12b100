// The seed example over PostgresStore for the HTTP benchmark, on
// DATABASE_URL, listening on PORT. The pool counts the statements it runs:
// GET /_pgstats gives the count.

import pg from "npm:pg@8.23.1";
import { seedApp } from "./_seed_app.ts";
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
const app = seedApp(store);

Deno.serve({ port: Number(Deno.env.get("PORT")) }, (request) => {
  if (new URL(request.url).pathname === "/_pgstats") {
    return Response.json({ queries });
  }
  return app(request);
});
