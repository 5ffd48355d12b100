// The seed example for Deno: GET /put stores a message in the session,
// GET /get writes it back.
//
//   deno run --allow-net --allow-env examples/server.ts
//   curl -c jar -b jar localhost:4000/put && curl -b jar localhost:4000/get

import { MemStore, SessionManager } from "../mod.ts";

const sessions = new SessionManager<{ message: string }>({
  store: new MemStore(),
});

/** The app: answers /put and /get, 404 for anything else. */
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
    return new Response("Not Found", { status: 404 });
  });

if (import.meta.main) {
  Deno.serve({ port: Number(Deno.env.get("PORT") ?? 4000) }, handler);
}
