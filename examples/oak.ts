// An Oak app with sessions: a visit counter, sign-in and sign-out, and a
// flash message, behind a check that form posts come from the app's pages.
//
//   deno run --allow-net --allow-env examples/oak.ts   (PORT, default 4000)
//
// GET  /        counts this browser's visits; shows the flash message once
// POST /login   signs in as the form's `user`: a new token, a flash message
// POST /logout  signs out: the session is destroyed

import { Application, Router } from "npm:@oakserver/oak@^14.1.0";
import { SessionManager } from "../mod.ts";
import { sessionMiddleware, type SessionState } from "../oak.ts";

type Values = { visits: number; user: string; flash: string };

const USER = /^[A-Za-z0-9_-]{1,32}$/;

/** Whether a request came from the app's own pages. */
function sameOrigin(
  request: { headers: { get(name: string): string | null }; url: URL },
): boolean {
  const site = request.headers.get("sec-fetch-site");
  if (site !== null) return site === "same-origin";
  return request.headers.get("origin") === request.url.origin;
}

/** The app, over `sessions`. */
export function createApp(
  sessions: SessionManager<Values>,
): Application<SessionState<Values>> {
  const router = new Router<SessionState<Values>>()
    .get("/", (ctx) => {
      const session = ctx.state.session;
      const visits = (session.get("visits") ?? 0) + 1;
      session.put("visits", visits);
      const flash = session.pop("flash");
      const user = session.get("user");
      ctx.response.body = { visits, user: user ?? null, flash: flash ?? null };
    })
    .post("/login", async (ctx) => {
      const form = await ctx.request.body.form().catch(() => undefined);
      const user = form?.get("user");
      if (typeof user !== "string" || !USER.test(user)) {
        ctx.response.status = 400;
        ctx.response.body = "A name is 1 to 32 letters, digits, - or _.";
        return;
      }
      const session = ctx.state.session;
      session.renewToken(); // a new token whenever privileges change
      session.put("user", user);
      session.put("flash", `Welcome, ${user}!`);
      ctx.response.redirect("/");
      ctx.response.status = 303;
    })
    .post("/logout", (ctx) => {
      ctx.state.session.destroy();
      ctx.response.redirect("/");
      ctx.response.status = 303;
    });
  return new Application<SessionState<Values>>()
    .use(async (ctx, next) => {
      // Refuses posts from other sites (Origin / Sec-Fetch-Site).
      if (ctx.request.method === "GET" || sameOrigin(ctx.request)) {
        return await next();
      }
      ctx.response.status = 403;
      ctx.response.body = "Forbidden: a post from another site";
    })
    .use(sessionMiddleware(sessions))
    .use(router.routes(), router.allowedMethods());
}

if (import.meta.main) {
  const app = createApp(new SessionManager<Values>());
  const port = Number(Deno.env.get("PORT") ?? 4000);
  app.addEventListener("listen", () => {
    console.log(`demo:oak listening on http://localhost:${port}/`);
  });
  // Oak from npm listens with Node's server, which reports a port in use
  // as an uncaught error after saying it listens: look first.
  try {
    Deno.listen({ port }).close();
  } catch (error) {
    if (!(error instanceof Deno.errors.AddrInUse)) throw error;
    console.error(
      `Port ${port} is in use (another demo?). Pick another: PORT=${
        port + 1
      } deno task demo:oak`,
    );
    Deno.exit(1);
  }
  await app.listen({ port });
}
