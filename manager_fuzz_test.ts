// Hostile Cookie headers: random and adversarial input never throws out of
// the handler, never gives a 5xx, and never makes the manager adopt a token
// it did not issue.
import assert from "node:assert/strict";
import { fc, parseSetCookie } from "./_test_helpers.ts";
import { MemStore } from "./memstore.ts";
import { SessionManager } from "./manager.ts";

const TOKEN = /^[A-Za-z0-9_-]{43}$/;

/** Well-formed tokens the server never issued. */
const FORGED = [
  "A".repeat(43),
  "0123456789abcdefghijklmnopqrstuvwxyzABCDEFG",
  "-".repeat(43),
];

/** A manager whose handler counts visits, with one session it issued. */
async function setup() {
  const store = new MemStore({ cleanupInterval: 0 });
  const sessions = new SessionManager<{ n: number }>({ store });
  const handler = sessions.loadAndSave((_request, session) => {
    const n = (session.get("n") ?? 0) + 1;
    session.put("n", n);
    return new Response(String(n));
  });
  const first = await handler(new Request("http://localhost/"));
  const issued = parseSetCookie(first.headers.get("set-cookie")!).value!;
  return {
    handler,
    issued,
    [Symbol.dispose]() {
      sessions[Symbol.dispose]();
      store[Symbol.dispose]();
    },
  };
}

/** Pieces a hostile header is made of. */
function pieces(issued: string): fc.Arbitrary<string> {
  return fc.oneof(
    fc.constantFrom(
      "session",
      "session=",
      "=",
      ";",
      "; ",
      " ",
      "\t",
      '"',
      "%",
      "%FF",
      "%00",
      "%zz",
      "\x01",
      "\x7f",
      "\xff\xfe",
      "\xc3\x28", // invalid UTF-8, as the bytes a server hands over
      "é",
      ...FORGED,
      issued.slice(0, 42),
      issued + "x",
      ` ${issued}`,
    ),
    // Any Latin-1 character a header value may hold (no NUL, CR or LF).
    fc.string({
      unit: fc.integer({ min: 1, max: 0xff })
        .filter((c) => c !== 10 && c !== 13)
        .map((c) => String.fromCharCode(c)),
      maxLength: 20,
    }),
  );
}

/** Sends a Cookie header; checks the answer; gives the count it showed. */
async function visit(
  handler: (request: Request) => Promise<Response>,
  issued: string,
  header: string,
): Promise<number> {
  const response = await handler(
    new Request("http://localhost/", { headers: { cookie: header } }),
  );
  assert.equal(response.status, 200, `status for ${JSON.stringify(header)}`);
  const n = Number(await response.text());
  const set = response.headers.get("set-cookie");
  // The issued session is changed but keeps its cookie: none is sent.
  const token = set === null ? issued : parseSetCookie(set).value!;
  assert.match(token, TOKEN);
  if (token === issued) {
    assert.equal(set, null, "no cookie for a session the browser holds");
    assert.ok(n > 1, "the issued session, with its count");
  } else {
    assert.equal(n, 1, `a new session for ${JSON.stringify(header)}`);
    assert.ok(!header.includes(token), `adopted ${token}`);
  }
  return n;
}

Deno.test("SessionManager survives random hostile Cookie headers", async () => {
  using app = await setup();
  await fc.assert(
    fc.asyncProperty(
      fc.array(pieces(app.issued), { maxLength: 30 }).map((p) => p.join("")),
      async (header) => {
        await visit(app.handler, app.issued, header);
      },
    ),
    { numRuns: 2_000 },
  );
});

Deno.test("SessionManager survives adversarial Cookie headers", async (t) => {
  using app = await setup();
  const cases: Record<string, string> = {
    "a megabyte of duplicates": "session=x; ".repeat(100_000),
    "a megabyte of forged tokens": `session=${FORGED[0]}; `.repeat(20_000),
    "one megabyte-long value": `session=${"A".repeat(1 << 20)}`,
    "a megabyte of separators": ";=".repeat(1 << 19),
    "many names, no values": "a;b;c;".repeat(50_000),
    "the issued token after 10,000 forged ones": `${
      `session=${FORGED[1]}; `.repeat(10_000)
    }session=${app.issued}`,
    "the issued token quoted": `session="${app.issued}"`,
    "the issued token percent-encoded": `session=${
      app.issued.replace("A", "%41")
    }`,
    "control characters": "session=\x01\x02\x03; \x7f=\x1f",
    "invalid UTF-8": "session=\xff\xfe\xfd; \xc3\x28=\xa0\xa1",
    "a lone surrogate percent-encoded": "session=%ED%A0%80",
    "the name with odd spacing": `  session  =  ${FORGED[0]}  ;`,
    "the name's case changed": `SESSION=${app.issued}`,
  };
  for (const [name, header] of Object.entries(cases)) {
    await t.step(name, async () => {
      await visit(app.handler, app.issued, header);
    });
  }
  await t.step("the issued token among duplicates still counts", async () => {
    const n = await visit(
      app.handler,
      app.issued,
      `session=junk; session=${app.issued}; session=${FORGED[0]}`,
    );
    assert.ok(n > 1);
  });
});

Deno.test("Deno.serve with SessionManager answers raw hostile Cookie bytes without a 5xx", async () => {
  using app = await setup();
  await using server = Deno.serve(
    { port: 0, hostname: "127.0.0.1", onListen: () => {} },
    app.handler,
  );
  const headers: Uint8Array[] = [
    new Uint8Array([0xff, 0xfe, 0x3d, 0x3b, 0xc3, 0x28]), // invalid UTF-8
    new TextEncoder().encode("session=\x01\x02; \x7f"), // control characters
    new TextEncoder().encode(`session=${FORGED[0]}; session=${FORGED[1]}`),
    new TextEncoder().encode("session=x; ".repeat(5_000)), // 55 KB
    new Uint8Array(4096).fill(0x3b), // only semicolons
  ];
  for (const cookie of headers) {
    const connection = await Deno.connect({
      port: server.addr.port,
      hostname: "127.0.0.1",
    });
    try {
      const head = new TextEncoder().encode(
        "GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\nCookie: ",
      );
      const request = new Uint8Array(head.length + cookie.length + 4);
      request.set(head);
      request.set(cookie, head.length);
      request.set(
        new TextEncoder().encode("\r\n\r\n"),
        head.length + cookie.length,
      );
      await connection.write(request);
      const chunks: Uint8Array[] = [];
      const buffer = new Uint8Array(65536);
      for (;;) {
        const read = await connection.read(buffer);
        if (read === null) break;
        chunks.push(buffer.slice(0, read));
      }
      const text = new TextDecoder().decode(
        new Uint8Array(chunks.flatMap((chunk) => [...chunk])),
      );
      const status = Number(text.slice(9, 12));
      assert.ok(
        status >= 200 && status < 500,
        `status line: ${text.slice(0, 40)}`,
      );
      if (status === 200) {
        const set = /^set-cookie: session=([^;]*);/im.exec(text)?.[1];
        assert.ok(set !== undefined && TOKEN.test(set), "a fresh token");
        assert.ok(!FORGED.includes(set), "not a forged one");
      }
    } finally {
      connection.close();
    }
  }
});
