// The seed example for Deno: GET /put stores a message in the session
// (GET /put?message=... another one), GET /get writes it back, GET /count
// counts your requests, GET / says how to use it.
//
//   deno run --allow-net --allow-env examples/server.ts   (PORT, default 4000)
//   curl -c jar -b jar localhost:4000/put && curl -b jar localhost:4000/get
//
// Sessions are in memory unless SESSION_STORE says otherwise (see
// store_from_env.ts): SESSION_STORE=redis keeps them in Redis, so several
// processes share them (`deno serve --parallel --port 4000 examples/serve.ts`).

import { SessionManager } from "../mod.ts";
import { serve } from "./_serve.ts";
import { storeFromEnv } from "./store_from_env.ts";

const { store, name } = await storeFromEnv();

const USAGE = `Sessions in ${name}: GET /put stores a message in your session
(/put?message=... one of yours), GET /get shows it, GET /count counts your
requests. With curl, keep the cookie in a jar:

  curl -c jar -b jar http://localhost:PORT/put
  curl -b jar http://localhost:PORT/get
`;

const sessions = new SessionManager<{ message: string; count: number }>({
  store,
});

/** The app: answers /, /put and /get, 404 for anything else. */
export const handler: (request: Request) => Promise<Response> = sessions
  .loadAndSave((request, session) => {
    const url = new URL(request.url);
    const path = url.pathname;
    if (path === "/put") {
      // Query parameters are parsed only when there are some.
      const message = url.search === ""
        ? null
        : url.searchParams.get("message");
      session.put("message", message ?? "Hello from a session!");
      return new Response("stored\n");
    }
    if (path === "/get") {
      return new Response(session.get("message") ?? "");
    }
    if (path === "/count") {
      const count = (session.get("count") ?? 0) + 1;
      session.put("count", count);
      return new Response(String(count));
    }
    if (path === "/") {
      return new Response(USAGE.replaceAll("PORT", url.port || "80"));
    }
    return new Response("Not Found", { status: 404 });
  });

if (import.meta.main) serve(handler, "demo");
