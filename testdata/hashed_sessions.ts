// Serves sessions with hashTokenInStore, prints every token it issues on
// stderr, then a heap snapshot on stdout. Used by session_test.ts.
import { getHeapSnapshot } from "node:v8";
import { MemStore } from "../memstore.ts";
import { SessionManager } from "../manager.ts";

const store = new MemStore({ cleanupInterval: 0 });
const sessions = new SessionManager<{ visits: number }>({
  store,
  hashTokenInStore: true,
});
const handler = sessions.loadAndSave((_request, session) => {
  session.put("visits", (session.get("visits") ?? 0) + 1);
  return new Response("ok");
});

/** Two visits of a new browser; the token goes to stderr, and nowhere else. */
async function browse(): Promise<void> {
  const first = await handler(new Request("http://localhost/"));
  const cookie = first.headers.get("set-cookie")!.split(";")[0]!;
  await handler(new Request("http://localhost/", { headers: { cookie } }));
  await Deno.stderr.write(new TextEncoder().encode(cookie.slice(8) + "\n"));
}

for (let i = 0; i < 50; i++) await browse();
let visits = 0;
await sessions.iterate((session) => {
  visits += session.get("visits")!;
});
if (visits !== 100 || store.size !== 50) throw new Error("sessions lost");
const out = Deno.stdout.writable.getWriter();
for await (const chunk of getHeapSnapshot()) {
  await out.write(new TextEncoder().encode(chunk));
}
await out.close();
