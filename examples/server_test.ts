import assert from "node:assert/strict";
import { type DenoProcess, freePort, startDeno } from "../_test_helpers.ts";

/** Starts examples/server.ts on `port`; resolves once it is listening. */
function start(port: number): Promise<DenoProcess> {
  return startDeno([
    "run",
    "--allow-net",
    "--allow-env",
    import.meta.resolve("./server.ts"),
  ], { env: { PORT: String(port) }, ready: "Listening", stream: "stderr" });
}

Deno.test("examples/server.ts serves /put and /get on $PORT", async () => {
  const port = freePort();
  await using _server = await start(port);
  const base = `http://localhost:${port}`;
  const usage = await (await fetch(`${base}/`)).text();
  assert.match(usage, new RegExp(`curl -c jar -b jar ${base}/put`));
  const empty = await fetch(`${base}/get`);
  assert.equal(await empty.text(), "");
  const put = await fetch(`${base}/put`);
  assert.equal(await put.text(), "stored\n", "curl shows that it worked");
  const cookie = put.headers.get("set-cookie")!.split(";")[0]!;
  const got = await fetch(`${base}/get`, { headers: { cookie } });
  assert.equal(await got.text(), "Hello from a session!");
  const missing = await fetch(`${base}/nowhere`);
  assert.equal(missing.status, 404);
  await missing.body?.cancel();
});

Deno.test("examples/server.ts says in one line how to pick another port when its own is taken", async () => {
  const port = freePort();
  await using _server = await start(port);
  const second = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-net",
      "--allow-env",
      import.meta.resolve("./server.ts"),
    ],
    env: { PORT: String(port) },
  }).output();
  assert.equal(second.code, 1);
  assert.equal(
    new TextDecoder().decode(second.stderr),
    `Port ${port} is in use (another demo?). Pick another: PORT=${
      port + 1
    } deno task demo\n`,
  );
});

Deno.test("examples/server.ts says in one line what is wrong when its store cannot be opened", async (t) => {
  const server = import.meta.resolve("./server.ts");
  const dir = await Deno.makeTempDir();
  try {
    const cases: [string, string[], Record<string, string>, RegExp][] = [
      [
        "no Redis at REDIS_URL",
        ["--allow-net", "--allow-env"],
        {
          SESSION_STORE: "redis",
          REDIS_URL: `redis://127.0.0.1:${freePort()}`,
        },
        /^Cannot reach Redis at redis:\/\/127\.0\.0\.1:\d+ \(.*ECONNREFUSED.*\): start redis-server, or set REDIS_URL\n$/,
      ],
      [
        "no PostgreSQL at DATABASE_URL",
        ["--allow-net", "--allow-env"],
        {
          SESSION_STORE: "postgres",
          DATABASE_URL: `postgres://postgres@127.0.0.1:${freePort()}/postgres`,
        },
        /^Cannot reach PostgreSQL at postgres:\/\/postgres@127\.0\.0\.1:\d+\/postgres \(.*ECONNREFUSED.*\): start it, or set DATABASE_URL\n$/,
      ],
      [
        "a KV_PATH that cannot be written",
        ["--allow-net", "--allow-env", "--allow-read", "--allow-write"],
        { SESSION_STORE: "kv", KV_PATH: `${dir}/missing/sessions.kv` },
        /^Cannot open Deno KV at .*sessions\.kv \(.*\): set KV_PATH to a file you can write\n$/,
      ],
      [
        "KV without the permissions it needs",
        ["--allow-net", "--allow-env"],
        { SESSION_STORE: "kv", KV_PATH: `${dir}/sessions.kv` },
        /SESSION_STORE=kv needs --allow-read --allow-write \(.*\)\n$/,
      ],
      [
        "an unknown store",
        ["--allow-net", "--allow-env"],
        { SESSION_STORE: "mongo" },
        /^SESSION_STORE must be "memory", "redis", "redis-cluster", "kv" or "postgres", not "mongo"\n$/,
      ],
    ];
    for (const [name, flags, env, message] of cases) {
      await t.step(name, async () => {
        const output = await new Deno.Command(Deno.execPath(), {
          args: ["run", "--unstable-kv", ...flags, server],
          env: { ...env, PORT: String(freePort()) },
          stdout: "null",
        }).output();
        assert.equal(output.code, 1);
        const stderr = new TextDecoder().decode(output.stderr);
        assert.match(stderr, message);
        assert.equal(stderr.trimEnd().split("\n").length, 1, stderr);
      });
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
