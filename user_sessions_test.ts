import assert from "node:assert/strict";
import {
  client,
  fakeTime,
  setup,
  TestStore,
  type Values,
} from "./_test_helpers.ts";
import { MemStore } from "./memstore.ts";
import { SessionManager } from "./manager.ts";
import type { Session } from "./session.ts";
import type { SessionManagerOptions } from "./options.ts";

/**
 * An app with accounts: /login?user= signs in (a new token, bound to the
 * user), /logout signs out, /devices lists the user's devices, /revoke?id=
 * signs one out, /others signs out every other device, /me says who is
 * signed in, /count counts.
 */
function accounts(sessions: SessionManager<Values>) {
  return sessions.loadAndSave(async (request, session) => {
    const url = new URL(request.url);
    const user = session.get("user");
    switch (url.pathname) {
      case "/login":
        session.renewToken();
        session.put("user", url.searchParams.get("user")!);
        return new Response("signed in");
      case "/logout":
        session.remove("user");
        return new Response("signed out");
      case "/devices":
        return Response.json(
          user === undefined ? [] : await sessions.users.list(user, session),
        );
      case "/revoke":
        return Response.json(
          await sessions.users.revoke(user!, url.searchParams.get("id")!),
        );
      case "/others":
        return Response.json(
          await sessions.users.revokeAll(user!, { except: session }),
        );
      case "/me":
        return new Response(user ?? "nobody");
      case "/count":
        session.put("count", (session.get("count") ?? 0) + 1);
        return new Response(String(session.get("count")));
    }
    return new Response("Not Found", { status: 404 });
  });
}

function withUsers(options: SessionManagerOptions = {}) {
  const context = setup({ users: { key: "user" }, ...options });
  return { ...context, app: accounts(context.sessions) };
}

const as = (agent: string) => ({ headers: { "user-agent": agent } });

Deno.test("A user signed in on two devices sees both, the current one marked, no token in sight", async () => {
  using context = withUsers();
  const laptop = client(context.app), phone = client(context.app);
  await laptop.get("/login?user=ada", as("Laptop Browser"));
  await phone.get("/login?user=ada", as("Phone Browser"));
  await client(context.app).get("/login?user=bob", as("Bob's"));

  const response = await laptop.get("/devices");
  const listed = await response.json();
  assert.deepEqual(
    listed.map((d: { userAgent: string }) => d.userAgent).sort(),
    ["Laptop Browser", "Phone Browser"],
  );
  const current = listed.filter((d: { current: boolean }) => d.current);
  assert.equal(current.length, 1);
  assert.equal(current[0].userAgent, "Laptop Browser");
  for (const device of listed) {
    assert.match(device.id, /^[A-Za-z0-9_-]{22}$/);
    for (const field of ["created", "lastSeen", "expiry"]) {
      assert.ok(!Number.isNaN(Date.parse(device[field])), field);
    }
    assert.equal("address" in device, false, "no address unless opted in");
  }
  const text = JSON.stringify(listed);
  for (const jar of [laptop, phone]) {
    assert.ok(!text.includes(jar.cookie!.split("=")[1]!), "no token listed");
  }
  assert.equal(response.headers.get("set-cookie"), null);
});

Deno.test("Signing out another device ends it: its next request is anonymous", async () => {
  using context = withUsers();
  const laptop = client(context.app), phone = client(context.app);
  await laptop.get("/login?user=ada", as("Laptop"));
  await phone.get("/login?user=ada", as("Phone"));
  const listed = await (await laptop.get("/devices")).json();
  const other = listed.find((d: { current: boolean }) => !d.current);

  assert.equal(await (await laptop.get(`/revoke?id=${other.id}`)).json(), true);
  assert.equal(await (await phone.get("/me")).text(), "nobody");
  assert.equal(await (await laptop.get("/me")).text(), "ada");
  const left = await (await laptop.get("/devices")).json();
  assert.deepEqual(left.map((d: { userAgent: string }) => d.userAgent), [
    "Laptop",
  ]);
  assert.equal(
    await (await laptop.get(`/revoke?id=${other.id}`)).json(),
    false,
    "already ended",
  );
});

Deno.test("An id that is not the user's changes nothing and says so", async () => {
  using context = withUsers();
  const ada = client(context.app), bob = client(context.app);
  await ada.get("/login?user=ada");
  await bob.get("/login?user=bob");
  const [bobs] = await (await bob.get("/devices")).json();
  assert.equal(await (await ada.get(`/revoke?id=${bobs.id}`)).json(), false);
  assert.equal(await (await ada.get(`/revoke?id=nonsense`)).json(), false);
  assert.equal(await (await bob.get("/me")).text(), "bob");
  assert.equal(await context.sessions.users.revoke("nobody", bobs.id), false);
});

Deno.test("revokeAll signs out everywhere, or everywhere but here", async () => {
  using context = withUsers();
  const jars = [client(context.app), client(context.app), client(context.app)];
  for (const jar of jars) await jar.get("/login?user=ada");
  assert.equal(await (await jars[0]!.get("/others")).json(), 2);
  assert.deepEqual(
    await Promise.all(jars.map(async (j) => await (await j.get("/me")).text())),
    ["ada", "nobody", "nobody"],
  );
  assert.equal(await context.sessions.users.revokeAll("ada"), 1);
  assert.equal(await (await jars[0]!.get("/me")).text(), "nobody");
  assert.deepEqual(await context.sessions.users.list("ada"), []);
});

Deno.test("A request in flight when its session is revoked cannot save it back", async () => {
  for (const pause of ["none", "microtask"] as const) {
    const store = new TestStore({
      capabilities: pause === "none" ? "in-memory" : "versioned",
      pause,
    });
    using sessions = new SessionManager<Values>({
      store,
      users: { key: "user" },
      onDropped: () => {},
    });
    let release!: () => void;
    const gate = new Promise<void>((resolve) => release = resolve);
    const app = sessions.loadAndSave(async (request, session) => {
      const path = new URL(request.url).pathname;
      if (path === "/login") {
        session.renewToken();
        session.put("user", "ada");
      } else if (path === "/slow") {
        await gate;
        session.put("count", 99);
        session.put("user", "ada");
      }
      return new Response(session.get("user") ?? "nobody");
    });
    const phone = client(app), laptop = client(app);
    await phone.get("/login");
    await laptop.get("/login");
    const slow = phone.get("/slow");
    await new Promise((resolve) => setTimeout(resolve, 0));
    const laptopSession = await sessions.load(laptop.cookie!.split("=")[1]!);
    assert.equal(
      await sessions.users.revokeAll("ada", { except: laptopSession }),
      1,
    );
    release();
    const answered = await slow;
    assert.equal(answered.headers.get("set-cookie"), null, pause);
    assert.equal(await (await phone.get("/me")).text(), "nobody", pause);
    assert.equal((await sessions.users.list("ada")).length, 1, pause);
    store[Symbol.dispose]();
  }
});

Deno.test("Signing out, destroy() and another user unbind the session", async () => {
  using context = withUsers();
  const jar = client(context.app);
  await jar.get("/login?user=ada");
  const [first] = await context.sessions.users.list("ada");
  await jar.get("/logout");
  assert.deepEqual(await context.sessions.users.list("ada"), []);

  await jar.get("/login?user=ada");
  const [second] = await context.sessions.users.list("ada");
  assert.notEqual(second!.id, first!.id, "a new sign-in is a new device");
  await jar.get("/login?user=bob");
  assert.deepEqual(await context.sessions.users.list("ada"), []);
  assert.equal((await context.sessions.users.list("bob")).length, 1);

  const session = await context.sessions.load(jar.cookie!.split("=")[1]!);
  session.destroy();
  await context.sessions.commit(session);
  assert.deepEqual(await context.sessions.users.list("bob"), []);
});

Deno.test("renewToken() keeps the device; the list follows the new token", async () => {
  using context = withUsers();
  const jar = client(context.app);
  await jar.get("/login?user=ada");
  const [before] = await context.sessions.users.list("ada");
  const session = await context.sessions.load(jar.cookie!.split("=")[1]!);
  session.renewToken();
  await context.sessions.commit(session);
  const after = await context.sessions.users.list("ada");
  assert.equal(after.length, 1);
  assert.equal(after[0]!.id, before!.id);
  assert.equal(await context.sessions.users.revoke("ada", before!.id), true);
  const renewed = await context.sessions.load(session.token);
  assert.equal(renewed.get("user"), undefined, "the renewed session ended");
});

Deno.test("lastSeen moves at most every seenEvery, without a cookie, and values' writes carry it", async () => {
  using clock = fakeTime();
  using context = withUsers({ users: { key: "user", seenEvery: 60_000 } });
  const jar = client(context.app);
  await jar.get("/login?user=ada");
  const seen = async () =>
    (await context.sessions.users.list("ada"))[0]!.lastSeen.getTime();
  const signedIn = await seen();
  const writes = () => context.store.calls.write;
  const before = writes();

  clock.tick(59_999);
  const quiet = await jar.get("/me");
  assert.equal(writes(), before, "no write within seenEvery");
  assert.equal(await seen(), signedIn);
  assert.equal(quiet.headers.get("set-cookie"), null);

  clock.tick(1);
  const touched = await jar.get("/me");
  assert.equal(writes(), before + 1, "one write once seenEvery passed");
  assert.equal(await seen(), signedIn + 60_000);
  assert.equal(touched.headers.get("set-cookie"), null, "no cookie for it");

  clock.tick(10);
  await jar.get("/count");
  assert.equal(await seen(), signedIn + 60_010, "a write carries lastSeen");
});

Deno.test("With an idle timeout, lastSeen moves with the expiry's touch by default", async () => {
  using clock = fakeTime();
  using context = withUsers({ idleTimeout: 600_000 });
  const jar = client(context.app);
  await jar.get("/login?user=ada");
  const before = context.store.calls.write;
  clock.tick(59_999);
  await jar.get("/me");
  assert.equal(context.store.calls.write, before);
  clock.tick(1);
  await jar.get("/me");
  assert.equal(
    context.store.calls.write,
    before + 1,
    "one write: touch and seen",
  );
  const [device] = await context.sessions.users.list("ada");
  assert.equal(device!.lastSeen.getTime(), Date.now());
  assert.equal(device!.expiry.getTime(), Date.now() + 600_000);
});

Deno.test("Expired sessions are never listed, nor found in the index", async () => {
  using clock = fakeTime();
  using context = withUsers({ lifetime: 60_000 });
  const jar = client(context.app);
  await jar.get("/login?user=ada");
  clock.tick(59_999);
  assert.equal((await context.sessions.users.list("ada")).length, 1);
  clock.tick(1);
  assert.deepEqual(await context.sessions.users.list("ada"), []);
  assert.equal((await context.store.inner.findByUser("ada")).size, 0);
});

Deno.test("The client address is kept only when the app opts in", async () => {
  for (const address of [false, true]) {
    using context = withUsers({ users: { key: "user", address } });
    const info = {
      remoteAddr: { transport: "tcp", hostname: "192.0.2.7", port: 5 },
    };
    const login = new Request("http://localhost/login?user=ada");
    await context.app(login, info);
    const [device] = await context.sessions.users.list("ada");
    assert.equal(device!.address, address ? "192.0.2.7" : undefined);
  }
});

Deno.test("A long User-Agent is trimmed; hashed tokens list alike", async () => {
  using context = withUsers({ hashTokenInStore: true });
  const jar = client(context.app);
  await jar.get("/login?user=ada", as("x".repeat(10_000)));
  const [device] = await context.sessions.users.list("ada");
  assert.equal(device!.userAgent.length, 256);
  assert.equal(await context.sessions.users.revoke("ada", device!.id), true);
  assert.equal(await (await jar.get("/me")).text(), "nobody");
});

Deno.test("Bad input to user sessions is a clear TypeError", async () => {
  using context = withUsers();
  const session: Session<Values> = await context.sessions.load("");
  assert.throws(() => session.put("user", 42 as never), {
    name: "TypeError",
    message:
      /Cannot put "user" \(the users key\): user must be a string, received 42/,
  });
  assert.throws(() => session.put("user", ""), /1 to 512 characters/);
  assert.throws(() => session.put("user", "x".repeat(513)), /received 513/);
  session.put("user", "x".repeat(512));
  await assert.rejects(context.sessions.users.list(42 as never), TypeError);
  await assert.rejects(context.sessions.users.revoke("ada", 1 as never), {
    name: "TypeError",
    message: /id must be a string/,
  });
  await assert.rejects(
    context.sessions.users.revokeAll("ada", { except: {} as never }),
    /expected a Session from a SessionManager/,
  );
  assert.deepEqual(await context.sessions.users.list("unknown"), []);

  using plain = new TestStore({ capabilities: "plain" });
  assert.throws(
    () => new SessionManager({ store: plain, users: { key: "user" } }),
    /users needs a store with a per-user index/,
  );
  assert.throws(
    () => new SessionManager({ users: { key: "" } }),
    /users.key must name the session value/,
  );
  using without = new SessionManager();
  assert.throws(() => without.users, /made without the users option/);
});

Deno.test("MemStore's eviction and sweep drop index entries: the index stays bounded", async () => {
  using store = new MemStore({ maxSessions: 50, cleanupInterval: 0 });
  using sessions = new SessionManager<Values>({
    store,
    users: { key: "user" },
  });
  const app = accounts(sessions);
  for (let i = 0; i < 500; i++) {
    await client(app).get(`/login?user=user${i}`);
  }
  let listed = 0;
  for (let i = 0; i < 500; i++) {
    listed += (await store.findByUser(`user${i}`)).size;
  }
  assert.equal(listed, 50, "only the sessions held are listed");
  assert.equal(store.size, 50);
});

Deno.test("A session saved before the users option is bound at its next sign-in", async () => {
  using store = new MemStore({ cleanupInterval: 0 });
  const before = new SessionManager<Values>({ store });
  const jar = client(accounts(before));
  await jar.get("/login?user=ada");
  using after = new SessionManager<Values>({ store, users: { key: "user" } });
  const app = accounts(after);
  const again = client(app);
  again.cookie = jar.cookie;
  assert.equal(await (await again.get("/me")).text(), "ada");
  assert.deepEqual(await after.users.list("ada"), [], "not bound yet");
  const session = await after.load(jar.cookie!.split("=")[1]!);
  session.put("user", "ada"); // signing in again, as the same user
  await after.commit(session);
  assert.equal((await after.users.list("ada")).length, 1);
  before[Symbol.dispose]();
});
