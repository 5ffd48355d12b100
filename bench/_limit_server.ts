// What any cookie-session layer on Deno.serve must cost at least, once the
// browser holds its cookie: a handler that reads the Cookie header, awaits
// once and sets Vary: Cookie, and stores nothing, on every route (/get,
// /put, /count). The yardstick of the HTTP benchmark.

const message = "Hello from a session!";
const setCookie =
  "session=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA; Max-Age=86400; Path=/; Expires=Tue, 24 Nov 2026 00:00:00 GMT; HttpOnly; SameSite=Lax";
const bodies: Record<string, string> = {
  "/get": message,
  "/put": "stored\n",
  "/count": "1",
};

Deno.serve({ port: Number(Deno.env.get("PORT")) }, async (request) => {
  const cookie = request.headers.get("cookie");
  await cookie; // one await, as any store lookup takes
  const body = bodies[new URL(request.url).pathname];
  if (body === undefined) return new Response("Not Found", { status: 404 });
  const response = new Response(body);
  response.headers.set("vary", "Cookie");
  if (cookie === null) {
    // A browser without the cookie yet (the benchmark's first request).
    response.headers.set("set-cookie", setCookie);
    response.headers.set("cache-control", 'no-cache="Set-Cookie"');
  }
  return response;
});
