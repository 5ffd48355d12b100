// Deno.serve without sessions, answering what examples/server.ts answers
// for a session holding the message: the baseline of the HTTP benchmark.

const message = "Hello from a session!";

Deno.serve({ port: Number(Deno.env.get("PORT")) }, (request) => {
  const path = new URL(request.url).pathname;
  if (path === "/get") return new Response(message);
  if (path === "/put") return new Response("stored\n");
  if (path === "/count") return new Response("1");
  return new Response("Not Found", { status: 404 });
});
