// The seed example for Deno: GET /put stores a message in the session,
// GET /get writes it back, GET / says how to use it.
//
//   deno run --allow-net --allow-env examples/server.ts   (PORT, default 4000)
//   curl -c jar -b jar localhost:4000/put && curl -b jar localhost:4000/get

import { MemStore, SessionManager } from "../mod.ts";
import { serve } from "./_serve.ts";

const USAGE = `Sessions in memory: GET /put stores a message in your session,
GET /get shows it. With curl, keep the cookie in a jar:

  curl -c jar -b jar http://localhost:PORT/put
  curl -b jar http://localhost:PORT/get
`;

const sessions = new SessionManager<{ message: string }>({
  store: new MemStore(),
});

/** The app: answers /, /put and /get, 404 for anything else. */
export const handler: (request: Request) => Promise<Response> = sessions
  .loadAndSave((request, session) => {
    const path = new URL(request.url).pathname;
    if (path === "/put") {
      session.put("message", "Hello from a session!");
      return new Response(null);
    }
    if (path === "/get") {
      return new Response(session.get("message") ?? "");
    }
    if (path === "/") {
      const { port } = new URL(request.url);
      return new Response(USAGE.replaceAll("PORT", port || "80"));
    }
    return new Response("Not Found", { status: 404 });
  });

if (import.meta.main) serve(handler, "demo");
