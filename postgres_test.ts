import assert from "node:assert/strict";
// @deno-types="npm:@types/pg@8.15.6"
import pg from "npm:pg@8.23.1";
import postgres from "npm:postgres@3.4.10";
import { startPostgres } from "./_test_helpers.ts";
import { SessionManager } from "./manager.ts";
import { type PostgresClient, PostgresStore } from "./postgres.ts";
import { testStore } from "./testing.ts";

/** A server and a pool of the test's own, closed when disposed. */
async function database() {
  const server = await startPostgres();
  const pool = new pg.Pool({ connectionString: server.url, max: 20 });
  pool.on("error", () => {}); // a connection the server dropped
  return {
    server,
    pool,
    async [Symbol.asyncDispose]() {
      await pool.end();
      await server[Symbol.asyncDispose]();
    },
  };
}

let tables = 0;
/** A new table name, so each store starts empty. */
const newTable = () => `sessions_${++tables}`;

Deno.test("pg's Pool is a PostgresClient as it is", () => {
  const pool = new pg.Pool();
  const client: PostgresClient = pool;
  assert.equal(typeof client.query, "function");
  void pool.end();
});

Deno.test("PostgresStore passes the store conformance kit", async (t) => {
  await using db = await database();
  await testStore(t, async () => {
    const store = new PostgresStore(db.pool, {
      table: newTable(),
      cleanupInterval: 0,
    });
    await store.createTable();
    return store;
  });
});

Deno.test("PostgresStore over postgres.js, adapted as the docs show, passes the store conformance kit", async (t) => {
  await using server = await startPostgres();
  const sql = postgres(server.url, { max: 10, onnotice: () => {} });
  try {
    // The adapter of docs/stores.md.
    const client: PostgresClient = {
      query: async (text, values) => ({
        rows: await sql.unsafe(text, values as never[]),
      }),
    };
    await testStore(t, async () => {
      const store = new PostgresStore(client, {
        table: newTable(),
        cleanupInterval: 0,
      });
      await store.createTable();
      return store;
    });
  } finally {
    await sql.end();
  }
});

Deno.test("createTable() is safe when many servers call it at once, and any table name is quoted", async () => {
  await using db = await database();
  await db.pool.query("CREATE SCHEMA auth");
  for (const table of ['odd "name"; DROP TABLE x; --', "auth.sessions"]) {
    const stores = Array.from(
      { length: 8 },
      () => new PostgresStore(db.pool, { table, cleanupInterval: 0 }),
    );
    await Promise.all(stores.map((store) => store.createTable()));
    await stores[0]!.createTable(); // and again later
    const expiry = new Date(Date.now() + 60_000);
    await stores[0]!.commit("a", new Uint8Array([1, 2]), expiry);
    assert.deepEqual(await stores[7]!.find("a"), new Uint8Array([1, 2]));
  }
  const { rows } = await db.pool.query(
    "SELECT schemaname, tablename FROM pg_tables WHERE schemaname IN ('public', 'auth') ORDER BY 1, 2",
  );
  assert.deepEqual(rows, [
    { schemaname: "auth", tablename: "sessions" },
    { schemaname: "public", tablename: 'odd "name"; DROP TABLE x; --' },
  ]);
  assert.throws(
    () => new PostgresStore(db.pool, { table: "a.b.c" }),
    /table must be a table name or "schema.table"/,
  );
  assert.throws(
    () => new PostgresStore({} as never),
    /client must have a query\(text, values\) method/,
  );
});

Deno.test("Expiry follows the application's clock, not the database's", async () => {
  await using db = await database();
  using store = new PostgresStore(db.pool, {
    table: newTable(),
    cleanupInterval: 0,
  });
  await store.createTable();
  // An hour ahead of the database: still live by the app's clock.
  const realNow = Date.now;
  try {
    Date.now = () => realNow() - 3_600_000;
    await store.commit("a", new Uint8Array([1]), new Date(Date.now() + 1_000));
    assert.deepEqual(await store.find("a"), new Uint8Array([1]));
    Date.now = () => realNow() - 3_600_000 + 1_000;
    assert.equal(await store.find("a"), undefined, "gone at its expiry");
  } finally {
    Date.now = realNow;
  }
});

Deno.test("Cleanup deletes expired rows in batches, one server at a time", async () => {
  await using db = await database();
  const table = newTable();
  using store = new PostgresStore(db.pool, {
    table,
    cleanupInterval: 0,
    cleanupBatch: 1_000,
  });
  using other = new PostgresStore(db.pool, { table, cleanupInterval: 0 });
  await store.createTable();
  const now = Date.now();
  await db.pool.query(
    `INSERT INTO ${table} (token, data, expiry, version)
     SELECT 'x' || n, '\\x00'::bytea, $1::bigint - n, 'v' FROM generate_series(1, 2500) n
     UNION ALL
     SELECT 'live' || n, '\\x00'::bytea, $1::bigint + 60000, 'v' FROM generate_series(1, 10) n`,
    [now],
  );

  // Another server is cleaning: this one skips its round.
  const holder = await db.pool.connect();
  try {
    await holder.query("BEGIN");
    await holder.query(
      "SELECT pg_advisory_xact_lock(hashtextextended('sessions cleanup ' || $1, 0))",
      [table],
    );
    assert.equal(await other.cleanup(), 0);
  } finally {
    await holder.query("COMMIT");
    holder.release();
  }
  assert.equal(await store.cleanup(), 2500);
  const { rows } = await db.pool.query(
    `SELECT count(*)::int AS n FROM ${table}`,
  );
  assert.equal(rows[0].n, 10, "the live rows are kept");
  assert.equal(await store.cleanup(), 0);
});

Deno.test("The cleanup timer runs every cleanupInterval, and await using stops it and waits for a running cleanup", async () => {
  await using db = await database();
  const table = newTable();
  const expired = async () => {
    await db.pool.query(
      `INSERT INTO ${table} (token, data, expiry, version) VALUES ($1, '\\x00', 1, 'v')`,
      [crypto.randomUUID()],
    );
  };
  const count = async () =>
    (await db.pool.query(`SELECT count(*)::int AS n FROM ${table}`)).rows[0].n;
  {
    await using store = new PostgresStore(db.pool, {
      table,
      cleanupInterval: 20,
    });
    await store.createTable();
    await expired();
    // Waits for the fact, not for a time: the row goes within 5 s.
    for (let i = 0; i < 250 && await count() > 0; i++) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    assert.equal(await count(), 0);
  }
  await expired();
  await new Promise((resolve) => setTimeout(resolve, 200)); // ten intervals
  assert.equal(await count(), 1, "no cleanup after the block");
});

Deno.test("await using a PostgresStore waits for the cleanup batch under way, and starts no other", async () => {
  const statements: string[] = [];
  let release = (): void => {};
  const client: PostgresClient = {
    query: (text) => {
      statements.push(text);
      // A full batch: without the stop, the cleanup would go on.
      return new Promise((resolve) => {
        release = () => resolve({ rows: [{ got: true, deleted: 1 }] });
      });
    },
  };
  let disposed = false;
  let cleaning: Promise<number>;
  {
    await using store = new PostgresStore(client, { cleanupBatch: 1 });
    cleaning = store.cleanup();
    setTimeout(() => {
      assert.equal(disposed, false, "disposal waits for the batch");
      release();
    }, 10);
  }
  disposed = true;
  assert.equal(await cleaning, 1);
  assert.equal(statements.length, 1, "no batch after the stop");
});

Deno.test("SessionManager over PostgresStore: a stuck statement and a stopped database go to onError in time, and requests recover", async () => {
  await using db = await database();
  const table = newTable();
  using store = new PostgresStore(db.pool, { table, cleanupInterval: 0 });
  await store.createTable();
  const errors: unknown[] = [];
  using sessions = new SessionManager<{ n: number }>({
    store,
    storeTimeout: 500,
    onError: (error) => {
      errors.push(error);
      return new Response("later", { status: 503 });
    },
  });
  const handler = sessions.loadAndSave((_request, session) => {
    session.put("n", (session.get("n") ?? 0) + 1);
    return new Response(String(session.get("n")));
  });
  const first = await handler(new Request("http://localhost/"));
  const cookie = first.headers.get("set-cookie")!.split(";")[0]!;
  const visit = () =>
    handler(new Request("http://localhost/", { headers: { cookie } }));
  assert.equal(await (await visit()).text(), "2");

  // Another connection locks the table: statements wait.
  const locker = await db.pool.connect();
  await locker.query("BEGIN");
  await locker.query(`LOCK TABLE ${table} IN ACCESS EXCLUSIVE MODE`);
  const started = performance.now();
  const stuck = await visit();
  assert.equal(stuck.status, 503);
  assert.ok(performance.now() - started < 5_000, "answered within the timeout");
  assert.equal((errors.at(-1) as Error).name, "TimeoutError");
  await locker.query("COMMIT");
  locker.release();
  // The stuck statement finishes once the lock goes; then requests succeed.
  let text = "";
  for (let i = 0; i < 50 && !/^\d+$/.test(text); i++) {
    text = await (await visit()).text();
  }
  assert.match(text, /^\d+$/);

  await db.server.stop();
  const down = await visit();
  assert.equal(down.status, 503, "the database is down");
  await down.body?.cancel();
  await db.server.start();
  let back = 0;
  for (let i = 0; i < 50 && back !== 200; i++) {
    const response = await visit();
    back = response.status;
    await response.body?.cancel();
    if (back !== 200) await new Promise((resolve) => setTimeout(resolve, 50));
  }
  assert.equal(back, 200, "requests succeed again without a restart");
});

Deno.test("A batch whose absent token another writer creates meanwhile writes nothing", async () => {
  await using db = await database();
  const table = newTable();
  using store = new PostgresStore(db.pool, { table, cleanupInterval: 0 });
  await store.createTable();
  const expiry = new Date(Date.now() + 60_000);
  await store.commit("a", new Uint8Array([1]), expiry);
  const a = (await store.findVersioned("a"))!;
  // Another writer inserts "b" in a transaction not yet committed.
  const other = await db.pool.connect();
  await other.query("BEGIN");
  await other.query(
    `INSERT INTO ${table} (token, data, expiry, version) VALUES ('b', '\\x02', $1::bigint, 'theirs')`,
    [expiry.getTime()],
  );
  const renewal = store.commitVersioned([
    { token: "b", ifVersion: null, data: new Uint8Array([3]), expiry },
    {
      token: "a",
      ifVersion: a.version,
      data: new Uint8Array([9]),
      expiry,
      ended: true,
    },
  ]);
  // Once the batch waits on "b" (so it has checked every version):
  for (let waiting = 0; waiting === 0;) {
    const { rows } = await db.pool.query(
      "SELECT count(*)::int AS n FROM pg_stat_activity WHERE wait_event_type = 'Lock'",
    );
    waiting = rows[0].n;
  }
  await other.query("COMMIT");
  other.release();
  assert.equal(await renewal, false);
  assert.deepEqual(await store.find("a"), new Uint8Array([1]), "a untouched");
  assert.equal((await store.findVersioned("b"))?.version, "theirs");
});
