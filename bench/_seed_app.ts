// The seed example's routes, as examples/server.ts answers them, over a
// store of the bench server's choosing: GET /put stores the message (or
// ?message=...), /get writes it back, /count counts.

import { SessionManager, type Store } from "../mod.ts";

/** The seed example's handler over `store`. */
export function seedApp(
  store: Store,
): (request: Request) => Promise<Response> {
  const sessions = new SessionManager<{ message: string; count: number }>({
    store,
  });
  return sessions.loadAndSave((request, session) => {
    const url = new URL(request.url);
    if (url.pathname === "/put") {
      // Query parameters are parsed only when there are some.
      const message = url.search === ""
        ? null
        : url.searchParams.get("message");
      session.put("message", message ?? "Hello from a session!");
      return new Response("stored\n");
    }
    if (url.pathname === "/count") {
      const count = (session.get("count") ?? 0) + 1;
      session.put("count", count);
      return new Response(String(count));
    }
    return new Response(session.get("message") ?? "");
  });
}
