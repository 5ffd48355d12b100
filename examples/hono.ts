// A Hono app with sessions: a visit counter, sign-in, sign-out and a flash
// message, behind Hono's CSRF check.
//
//   deno run --allow-net --allow-env examples/hono.ts   (PORT, default 4000)
//
// GET  /        counts this browser's visits; shows the flash message once
// POST /login   signs in as the form's `user`: a new token, a flash message
// POST /logout  signs out: the session is destroyed

import { Hono } from "npm:hono@^4.6.0";
import { csrf } from "npm:hono@^4.6.0/csrf";
import { type Session, SessionManager } from "../mod.ts";
import { sessionMiddleware } from "../hono.ts";

type Values = { visits: number; user: string; flash: string };

const USER = /^[A-Za-z0-9_-]{1,32}$/;

/** The app, over `sessions`. */
export function createApp(
  sessions: SessionManager<Values>,
): Hono<{ Variables: { session: Session<Values> } }> {
  return new Hono<{ Variables: { session: Session<Values> } }>()
    // Refuses form posts from other sites (Origin / Sec-Fetch-Site).
    .use(csrf())
    .use(sessionMiddleware(sessions))
    .get("/", (c) => {
      const session = c.var.session;
      const visits = (session.get("visits") ?? 0) + 1;
      session.put("visits", visits);
      const flash = session.pop("flash");
      const user = session.get("user");
      return c.json({ visits, user: user ?? null, flash: flash ?? null });
    })
    .post("/login", async (c) => {
      const form = await c.req.formData().catch(() => undefined);
      const user = form?.get("user");
      if (typeof user !== "string" || !USER.test(user)) {
        return c.text("A name is 1 to 32 letters, digits, - or _.", 400);
      }
      const session = c.var.session;
      session.renewToken(); // a new token whenever privileges change
      session.put("user", user);
      session.put("flash", `Welcome, ${user}!`);
      return c.redirect("/", 303);
    })
    .post("/logout", (c) => {
      c.var.session.destroy();
      return c.redirect("/", 303);
    });
}

if (import.meta.main) {
  const { serve } = await import("./_serve.ts");
  serve(createApp(new SessionManager<Values>()).fetch, "demo:hono");
}
