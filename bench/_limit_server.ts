// What any cookie-session layer on Deno.serve must cost at least: a handler
// that reads the Cookie header, awaits once and sets Vary: Cookie (on /put
// also a fixed Set-Cookie and Cache-Control), and stores nothing. The
// yardstick of the HTTP benchmark.

const message = "Hello from a session!";
const setCookie =
  "session=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA; Max-Age=86400; Path=/; Expires=Tue, 24 Nov 2026 00:00:00 GMT; HttpOnly; SameSite=Lax";

Deno.serve({ port: Number(Deno.env.get("PORT")) }, async (request) => {
  const cookie = request.headers.get("cookie");
  await cookie; // one await, as any store lookup takes
  const path = new URL(request.url).pathname;
  if (path === "/get") {
    const response = new Response(message);
    response.headers.set("vary", "Cookie");
    return response;
  }
  if (path === "/put") {
    const response = new Response("stored\n");
    response.headers.set("vary", "Cookie");
    response.headers.set("set-cookie", setCookie);
    response.headers.set("cache-control", 'no-cache="Set-Cookie"');
    return response;
  }
  return new Response("Not Found", { status: 404 });
});
