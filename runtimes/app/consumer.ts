// A TypeScript app on Node, type-checked against the built package's
// declarations (`tsc -p .`): the types are real, not `any`, so each
// `@ts-expect-error` below must find its error.

import { Hono } from "hono";
import {
  jsonCodec,
  MemStore,
  SessionManager,
  type Store,
} from "@sessions/memstore";
import { sessionMiddleware } from "@sessions/memstore/hono";

const store: Store = new MemStore({ cleanupInterval: 0 });
const sessions = new SessionManager<{ visits: number; user: string }>({
  store,
  codec: jsonCodec,
  cookie: { sameSite: "Strict" },
});

export const app = new Hono().use(sessionMiddleware(sessions)).get(
  "/",
  (c) => {
    const visits: number = (c.var.session.get("visits") ?? 0) + 1;
    c.var.session.put("visits", visits);
    // @ts-expect-error: "visit" is not a key of the session
    c.var.session.put("visit", visits);
    // @ts-expect-error: visits is a number
    c.var.session.put("visits", "one");
    return c.text(String(visits));
  },
);

export const handler: (request: Request) => Promise<Response> = sessions
  .loadAndSave((_request, session) => {
    const user: string | undefined = session.get("user");
    return new Response(user ?? "nobody");
  });

// @ts-expect-error: cleanupInterval is a number
new MemStore({ cleanupInterval: "1m" });
