import assert from "node:assert/strict";
import { handler } from "./visits.ts";

const login = (headers: Record<string, string>) =>
  handler(
    new Request("http://localhost:4000/login", {
      method: "POST",
      headers: {
        "content-type": "application/x-www-form-urlencoded",
        ...headers,
      },
      body: "user=mallory",
    }),
  );

Deno.test("examples/visits.ts signs in from its own pages only", async (t) => {
  for (
    const [name, headers] of [
      ["another site's form (Origin)", { origin: "https://evil.example" }],
      ["another site's form (Sec-Fetch-Site)", {
        "sec-fetch-site": "cross-site",
      }],
      ["a post with no Origin", {}],
    ] as const
  ) {
    await t.step(`refuses ${name}`, async () => {
      const response = await login(headers);
      assert.equal(response.status, 403);
      assert.equal(response.headers.get("set-cookie"), null, "no session");
      await response.body?.cancel();
    });
  }
  for (
    const [name, headers] of [
      ["its own page (Origin)", { origin: "http://localhost:4000" }],
      ["its own page (Sec-Fetch-Site)", { "sec-fetch-site": "same-origin" }],
    ] as const
  ) {
    await t.step(`accepts ${name}`, async () => {
      const response = await login(headers);
      assert.equal(response.status, 303);
      assert.match(response.headers.get("set-cookie")!, /^session=/);
    });
  }
});
