// The seed example over KvStore for the HTTP benchmark, as a `deno serve`
// module (run with --parallel for several isolates on one KV file, KV_PATH).
// GET /_kvstats gives this isolate's KvStore counts, and which isolate it is.

import { seedApp } from "./_seed_app.ts";
import { KvStore, openSharedKv } from "../kv.ts";

const isolate = crypto.randomUUID();
const store = new KvStore(await openSharedKv(Deno.env.get("KV_PATH")));
const app = seedApp(store);

export default {
  fetch(request: Request): Response | Promise<Response> {
    if (new URL(request.url).pathname === "/_kvstats") {
      return Response.json({ isolate, ...store.stats() });
    }
    return app(request);
  },
} satisfies Deno.ServeDefaultExport;
