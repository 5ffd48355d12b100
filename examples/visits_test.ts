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

Deno.test("examples/visits.ts lists a user's devices and signs out the others, from its own pages only", async () => {
  const own = { origin: "http://localhost:4000" };
  const signIn = async (agent: string) => {
    const response = await handler(
      new Request("http://localhost:4000/login", {
        method: "POST",
        headers: {
          "content-type": "application/x-www-form-urlencoded",
          "user-agent": agent,
          ...own,
        },
        body: "user=linus",
      }),
    );
    return response.headers.get("set-cookie")!.split(";")[0]!;
  };
  const laptop = await signIn("Mozilla/5.0 (X11; Linux x86_64) Firefox/140.0");
  const phone = await signIn("Mozilla/5.0 (iPhone) Safari/604.1");
  const devices = async (cookie: string) =>
    await (await handler(
      new Request("http://localhost:4000/devices", { headers: { cookie } }),
    )).text();
  const listed = await devices(laptop);
  assert.match(listed, /Firefox on Linux/);
  assert.match(listed, /Safari on iPhone/);
  const others = (headers: Record<string, string>) =>
    handler(
      new Request("http://localhost:4000/devices/others", {
        method: "POST",
        headers: { cookie: laptop, ...headers },
      }),
    );
  assert.equal((await others({ origin: "https://evil.example" })).status, 403);
  assert.match(await devices(phone), /Firefox on Linux/, "nothing signed out");
  assert.equal((await others(own)).status, 303);
  assert.doesNotMatch(await devices(laptop), /Safari on iPhone/);
  const phoneHome = await handler(
    new Request("http://localhost:4000/devices", {
      headers: { cookie: phone },
    }),
  );
  assert.equal(phoneHome.status, 303, "the phone is signed out");
});
