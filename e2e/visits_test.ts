// The visits demo in a real browser: Debian's Chromium, headless, driven by
// playwright-core. Run with `deno task test:e2e`; needs `chromium` on the
// PATH (`apt-get install chromium`).

import assert from "node:assert/strict";
import { type BrowserContext, chromium, type Page } from "playwright-core";

const TOKEN = /^[A-Za-z0-9_-]{43}$/;
const SCREENSHOTS = new URL("./screenshots/", import.meta.url);

/** Chromium from the PATH, as Debian's package installs it. */
function chromiumPath(): string {
  for (const dir of (Deno.env.get("PATH") ?? "").split(":")) {
    for (const name of ["chromium", "chromium-browser"]) {
      try {
        const path = `${dir}/${name}`;
        if (Deno.statSync(path).isFile) return path;
      } catch {
        // not here
      }
    }
  }
  throw new Error(
    "Cannot run the browser test: no chromium on the PATH (apt-get install chromium)",
  );
}

/** Starts examples/visits.ts on a free port; stops with `await using`. */
async function startDemo() {
  const probe = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = probe.addr.port;
  probe.close();
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-net",
      "--allow-env",
      new URL("../examples/visits.ts", import.meta.url).pathname,
    ],
    env: { PORT: String(port) },
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const reader = child.stderr.pipeThrough(new TextDecoderStream()).getReader();
  for (let text = ""; !text.includes("Listening");) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`The demo exited: ${text}`);
    text += value;
  }
  reader.releaseLock();
  return {
    base: `http://localhost:${port}`,
    async [Symbol.asyncDispose]() {
      child.kill();
      await child.status;
      await child.stderr.cancel().catch(() => {});
    },
  };
}

async function visits(page: Page): Promise<string> {
  return (await page.textContent("#visits"))?.trim() ?? "";
}

async function sessionCookie(context: BrowserContext) {
  return (await context.cookies()).find((cookie) => cookie.name === "session");
}

Deno.test({
  name:
    "examples/visits.ts in Chromium: visits, HttpOnly cookie, login, logout",
  // playwright-core keeps pipes and timers of its own between steps.
  sanitizeOps: false,
  sanitizeResources: false,
  async fn(t) {
    await using demo = await startDemo();
    const browser = await chromium.launch({
      executablePath: chromiumPath(),
      headless: true,
      chromiumSandbox: false, // --no-sandbox: root in a container
      // playwright adds --headless and a fresh --user-data-dir of its own.
      args: [
        "--no-sandbox",
        "--disable-gpu",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
      ],
    });
    try {
      const context = await browser.newContext();
      const page = await context.newPage();

      await t.step("the count goes 1, 2, 3 over reloads", async () => {
        await page.goto(demo.base);
        assert.equal(await visits(page), "1");
        await page.reload();
        assert.equal(await visits(page), "2");
        await page.reload();
        assert.equal(await visits(page), "3");
      });

      await t.step("a second browser context starts at 1", async () => {
        const other = await browser.newContext();
        const otherPage = await other.newPage();
        await otherPage.goto(demo.base);
        assert.equal(await visits(otherPage), "1");
        await other.close();
      });

      await t.step(
        "the cookie is HttpOnly: the jar has it, document.cookie does not",
        async () => {
          const cookie = await sessionCookie(context);
          assert.ok(cookie, "the jar holds a session cookie");
          assert.match(cookie.value, TOKEN);
          assert.equal(cookie.httpOnly, true);
          assert.equal(cookie.sameSite, "Lax");
          assert.equal(cookie.path, "/");
          assert.equal(cookie.secure, false);
          assert.equal(cookie.domain, "localhost");
          const inADay = Date.now() / 1000 + 86_400;
          assert.ok(
            Math.abs(cookie.expires - inADay) < 120,
            `expires ${cookie.expires}`,
          );
          const visible = await page.evaluate<string>("document.cookie");
          assert.doesNotMatch(visible, /session=/);
        },
      );

      await t.step("login renews the token and keeps the count", async () => {
        const before = (await sessionCookie(context))!.value;
        await page.fill("#login input[name=user]", "ada_lovelace");
        await Promise.all([
          page.waitForURL(demo.base + "/"),
          page.click("#login button"),
        ]);
        assert.equal((await page.textContent("#user"))?.trim(), "ada_lovelace");
        assert.equal(await visits(page), "4");
        const after = (await sessionCookie(context))!.value;
        assert.match(after, TOKEN);
        assert.notEqual(after, before);
        await Deno.mkdir(SCREENSHOTS, { recursive: true });
        await page.screenshot({
          path: new URL("visits-signed-in.png", SCREENSHOTS).pathname,
          fullPage: true,
        });
      });

      await t.step(
        "logout removes the cookie and the next visit starts at 1",
        async () => {
          const signedIn = (await sessionCookie(context))!.value;
          const logout = page.waitForResponse((response) =>
            response.url().endsWith("/logout")
          );
          await Promise.all([
            page.waitForURL(demo.base + "/"),
            page.click("#logout button"),
          ]);
          const deletion = await (await logout).headerValue("set-cookie");
          assert.match(deletion ?? "", /^session=; Max-Age=0;/);
          assert.equal(await visits(page), "1");
          assert.equal(await page.$("#user"), null);
          const fresh = await sessionCookie(context);
          assert.notEqual(fresh?.value, signedIn);
        },
      );

      await t.step(
        "a bad name gives the 400 page and leaves the session alone",
        async () => {
          await page.reload();
          assert.equal(await visits(page), "2");
          const before = (await sessionCookie(context))!.value;
          await page.fill("#login input[name=user]", "not a name!");
          const [response] = await Promise.all([
            page.waitForResponse((r) => r.url().endsWith("/login")),
            page.click("#login button"),
          ]);
          assert.equal(response.status(), 400);
          await page.waitForSelector("#error");
          assert.match(
            (await page.textContent("#error")) ?? "",
            /1 to 32 letters/,
          );
          assert.equal((await sessionCookie(context))!.value, before);
          await page.goto(demo.base);
          assert.equal(await visits(page), "3");
          assert.equal(await page.$("#user"), null);
        },
      );
      await t.step(
        "two browsers signed in as one user see two devices; signing out the other from one signs the other out",
        async () => {
          const signIn = async () => {
            const device = await browser.newContext();
            const devicePage = await device.newPage();
            await devicePage.goto(demo.base);
            await devicePage.fill("#login input[name=user]", "grace");
            await Promise.all([
              devicePage.waitForURL(demo.base + "/"),
              devicePage.click("#login button"),
            ]);
            return { device, page: devicePage };
          };
          const first = await signIn();
          const second = await signIn();
          await Promise.all([
            first.page.waitForURL(demo.base + "/devices"),
            first.page.click("#devices"),
          ]);
          assert.equal(await first.page.locator("li.device").count(), 2);
          assert.equal(await first.page.locator(".here").count(), 1);
          assert.match(
            (await first.page.textContent("ul.devices")) ?? "",
            /Chrome on Linux/,
          );
          await first.page.screenshot({
            path: new URL("visits-devices.png", SCREENSHOTS).pathname,
            fullPage: true,
          });
          await Promise.all([
            first.page.waitForURL(demo.base + "/devices"),
            first.page.click("#others button"),
          ]);
          assert.equal(await first.page.locator("li.device").count(), 1);

          await second.page.reload();
          assert.equal(await second.page.$("#user"), null, "signed out");
          assert.equal(await visits(second.page), "1", "a new session");
          await first.page.goto(demo.base);
          assert.equal(
            (await first.page.textContent("#user"))?.trim(),
            "grace",
          );
          await first.device.close();
          await second.device.close();
        },
      );
      await context.close();
    } finally {
      await browser.close();
    }
  },
});
