// The seed example's routes as a Hono app, with one of three session
// layers (HONO_SESSIONS): "ours" (this package's middleware over a
// MemStore), "hono-sessions" (npm hono-sessions with its MemoryStore, no
// encryption: its fastest setting), or "noop" (a middleware that only reads
// the Cookie header and sets Vary: Cookie, keeping nothing).

import { Hono, type MiddlewareHandler } from "hono";
import { MemoryStore, sessionMiddleware as honoSessions } from "hono-sessions";
import { SessionManager } from "../mod.ts";
import { sessionMiddleware } from "../hono.ts";

const DEFAULT = "Hello from a session!";
const mode = Deno.env.get("HONO_SESSIONS") ?? "ours";

/** What each route needs of a session. */
interface Values {
  get(key: "message"): string | undefined;
  get(key: "count"): number | undefined;
  put(key: "message", value: string): void;
  put(key: "count", value: number): void;
}
type Env = { Variables: { values: Values } };

let layer: MiddlewareHandler<Env>;
if (mode === "ours") {
  const sessions = new SessionManager<{ message: string; count: number }>();
  const ours = sessionMiddleware(sessions);
  layer = (c, next) =>
    ours(c as never, () => {
      c.set(
        "values",
        (c as unknown as { var: { session: Values } }).var.session,
      );
      return next();
    });
} else if (mode === "hono-sessions") {
  const theirs = honoSessions({
    store: new MemoryStore(),
    expireAfterSeconds: 86_400,
    cookieOptions: { path: "/", httpOnly: true, sameSite: "Lax" },
  });
  layer = (c, next) =>
    theirs(c as never, () => {
      // deno-lint-ignore no-explicit-any
      const session = (c as any).get("session");
      c.set("values", {
        get: (key) => session.get(key) ?? undefined,
        put: (key, value) => session.set(key, value),
      });
      return next();
    });
} else if (mode === "noop") {
  const values = {
    get: (key: string) => key === "message" ? DEFAULT : 1,
    put: () => {},
  } as Values;
  layer = async (c, next) => {
    c.req.header("cookie");
    c.set("values", values);
    await next();
    c.header("vary", "Cookie");
  };
} else {
  throw new Error(
    `HONO_SESSIONS must be ours, hono-sessions or noop, not ${mode}`,
  );
}

const app = new Hono<Env>()
  .use(layer)
  .get("/put", (c) => {
    c.var.values.put("message", c.req.query("message") ?? DEFAULT);
    return c.text("stored\n");
  })
  .get("/get", (c) => c.text(c.var.values.get("message") ?? ""))
  .get("/count", (c) => {
    const count = (c.var.values.get("count") ?? 0) + 1;
    c.var.values.put("count", count);
    return c.text(String(count));
  });

Deno.serve({ port: Number(Deno.env.get("PORT")) }, app.fetch);
