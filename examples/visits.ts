// A visit counter with sign-in, for a browser: sessions as a user sees them.
//
//   deno run --allow-net --allow-env examples/visits.ts   (PORT, default 4000)
//
// GET /                 counts this browser's visits; a sign-in or sign-out form
// POST /login           signs in as `user` (1-32 letters, digits, - or _)
// POST /logout          signs out: the session is destroyed
// GET /devices          the signed-in user's devices (their sessions)
// POST /devices/revoke  signs out the device whose public `id` is posted
// POST /devices/others  signs out every device but this one
//
// Posts from other sites are refused (403): without that check, any site
// could sign a visitor in under a name of its choosing (login CSRF).

import { SessionManager } from "../mod.ts";
import { serve } from "./_serve.ts";

type Values = { visits: number; user: string };

const USER = /^[A-Za-z0-9_-]{1,32}$/;

/** Whether a request comes from this app's own pages (Sec-Fetch-Site, or Origin). */
function sameOrigin(request: Request): boolean {
  const site = request.headers.get("sec-fetch-site");
  if (site !== null) return site === "same-origin";
  return request.headers.get("origin") === new URL(request.url).origin;
}

const style = `
  :root { color-scheme: light dark; font-family: system-ui, sans-serif; }
  body { max-width: 32rem; margin: 4rem auto; padding: 0 1rem; line-height: 1.5; }
  h1 { font-size: 1.6rem; margin-bottom: 0.25rem; }
  .count { font-size: 4rem; font-weight: 700; margin: 1rem 0; }
  .muted { color: #777; }
  form { display: flex; gap: 0.5rem; margin-top: 1.5rem; }
  input { flex: 1; padding: 0.5rem 0.75rem; font-size: 1rem; border: 1px solid #999; border-radius: 6px; }
  button { padding: 0.5rem 1rem; font-size: 1rem; border: 0; border-radius: 6px;
           background: #2457c5; color: white; cursor: pointer; }
  .error { border-left: 4px solid #c52424; padding: 0.5rem 1rem; background: #c524241a; }
  ul.devices { list-style: none; padding: 0; }
  ul.devices li { display: flex; justify-content: space-between; align-items: center;
                  gap: 1rem; padding: 0.75rem 0; border-bottom: 1px solid #9995; }
  ul.devices form { margin: 0; }
  .here { font-size: 0.8rem; padding: 0.1rem 0.5rem; border-radius: 1rem; background: #2457c522; }
`;

/** A browser's name, as far as its User-Agent tells. */
function browserOf(agent: string): string {
  const known = agent.match(/(Firefox|Chrome|Safari)\/[\d.]+/);
  const system = ["Android", "iPhone", "Windows", "Mac OS", "Linux"].find((
    name,
  ) => agent.includes(name));
  if (known === null) return agent || "Unknown browser";
  return system === undefined ? known[1]! : `${known[1]} on ${system}`;
}

/** How long ago `time` was, roughly. */
function ago(time: Date): string {
  const minutes = Math.floor((Date.now() - time.getTime()) / 60_000);
  if (minutes < 1) return "just now";
  if (minutes < 60) return `${minutes} min ago`;
  return `${Math.floor(minutes / 60)} h ago`;
}

/** Escapes text for HTML. */
function escape(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function page(title: string, body: string, status = 200): Response {
  return new Response(
    `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escape(title)}</title>
<style>${style}</style>
</head>
<body>
${body}
</body>
</html>
`,
    { status, headers: { "content-type": "text/html; charset=utf-8" } },
  );
}

// Sessions are bound to the user id under "user": each signed-in browser is
// one of the user's devices.
const sessions = new SessionManager<Values>({ users: { key: "user" } });

/** The app's handler: `/`, `/login`, `/logout` and `/devices`. */
export const handler: (request: Request) => Promise<Response> = sessions
  .loadAndSave(async (request, session) => {
    const { pathname } = new URL(request.url);
    const home = new URL("/", request.url);

    if (pathname === "/" && request.method === "GET") {
      const visits = (session.get("visits") ?? 0) + 1;
      session.put("visits", visits);
      const user = session.get("user");
      const greeting = user === undefined
        ? `<p class="muted">You are not signed in.</p>
<form id="login" method="post" action="/login">
  <input name="user" placeholder="Your name" autocomplete="username" required maxlength="32">
  <button>Sign in</button>
</form>`
        : `<p>Signed in as <strong id="user">${escape(user)}</strong>.
<a href="/devices" id="devices">Your devices</a></p>
<form id="logout" method="post" action="/logout">
  <button>Sign out</button>
</form>`;
      return page(
        "Visits",
        `<h1>Visits</h1>
<p class="muted">Visits from this browser in this session:</p>
<p class="count" id="visits">${visits}</p>
${greeting}`,
      );
    }

    const user = session.get("user");
    if (pathname === "/devices" && request.method === "GET") {
      if (user === undefined) return Response.redirect(home, 303);
      const devices = await sessions.users.list(user, session);
      const items = devices.map((device) =>
        `<li class="device"><span><strong>${
          escape(browserOf(device.userAgent))
        }</strong><br><span class="muted">signed in ${
          ago(device.created)
        }, last seen ${ago(device.lastSeen)}</span></span>${
          device.current
            ? `<span class="here">This device</span>`
            : `<form method="post" action="/devices/revoke">
  <input type="hidden" name="id" value="${escape(device.id)}">
  <button>Sign out</button>
</form>`
        }</li>`
      ).join("\n");
      return page(
        "Your devices",
        `<h1>Your devices</h1>
<p class="muted">Browsers signed in as ${escape(user)}.</p>
<ul class="devices">${items}</ul>
<form id="others" method="post" action="/devices/others">
  <button>Sign out other devices</button>
</form>
<p><a href="/">Back</a></p>`,
      );
    }

    if (request.method === "POST" && !sameOrigin(request)) {
      return page(
        "Forbidden",
        "<h1>Forbidden</h1><p>A post from another site.</p>",
        403,
      );
    }

    if (pathname === "/login" && request.method === "POST") {
      const form = await request.formData().catch(() => undefined);
      const user = form?.get("user");
      if (typeof user !== "string" || !USER.test(user)) {
        return page(
          "Cannot sign in",
          `<h1>Cannot sign in</h1>
<p class="error" id="error">A name is 1 to 32 letters, digits, - or _.</p>
<p><a href="/">Back</a></p>`,
          400,
        );
      }
      session.renewToken(); // a new token whenever privileges change
      session.put("user", user);
      return Response.redirect(home, 303);
    }

    if (pathname === "/logout" && request.method === "POST") {
      session.destroy();
      return Response.redirect(home, 303);
    }

    if (pathname.startsWith("/devices/") && request.method === "POST") {
      if (user === undefined) return Response.redirect(home, 303);
      if (pathname === "/devices/others") {
        await sessions.users.revokeAll(user, { except: session });
      } else if (pathname === "/devices/revoke") {
        // An id of someone else's session changes nothing: revoke() checks
        // that it is this user's.
        const id = (await request.formData().catch(() => undefined))?.get("id");
        if (typeof id === "string") await sessions.users.revoke(user, id);
      }
      return Response.redirect(new URL("/devices", request.url), 303);
    }

    return page("Not found", "<h1>Not found</h1>", 404);
  });

if (import.meta.main) serve(handler, "demo:visits");
