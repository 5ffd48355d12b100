// The seed example over KvStore for the HTTP benchmark, as a `deno serve`
// module (run with --parallel for several isolates on one KV file, KV_PATH).
// GET /_kvstats gives this isolate's KvStore counts, and which isolate it is.

import { SessionManager } from "../mod.ts";
import { KvStore, openSharedKv } from "../kv.ts";

const isolate = crypto.randomUUID();
const store = new KvStore(await openSharedKv(Deno.env.get("KV_PATH")));
const sessions = new SessionManager<{ message: string; count: number }>({
  store,
});
const app = sessions.loadAndSave((request, session) => {
  const url = new URL(request.url);
  if (url.pathname === "/put") {
    const message = url.search === "" ? null : url.searchParams.get("message");
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

export default {
  fetch(request: Request): Response | Promise<Response> {
    if (new URL(request.url).pathname === "/_kvstats") {
      return Response.json({ isolate, ...store.stats() });
    }
    return app(request);
  },
} satisfies Deno.ServeDefaultExport;
