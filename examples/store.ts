// Using MemStore directly: commit, find, expire, sweep.
//
//   deno run examples/store.ts

import { MemStore } from "../mod.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

// Sweep expired sessions every 100 ms (the default is once a minute).
using store = new MemStore({ cleanupInterval: 100 });

await store.commit(
  "long-lived",
  encoder.encode(JSON.stringify({ user: "ada" })),
  new Date(Date.now() + 60_000),
);
await store.commit(
  "short-lived",
  encoder.encode(JSON.stringify({ user: "bob" })),
  new Date(Date.now() + 50),
);

const found = await store.find("long-lived");
console.log("long-lived:", found && decoder.decode(found));
console.log("sessions held:", store.size);

await new Promise((resolve) => setTimeout(resolve, 250));
console.log("short-lived after it expired:", await store.find("short-lived"));
console.log("sessions held after the sweep:", store.size);
console.log("live sessions:", [...(await store.all()).keys()]);
