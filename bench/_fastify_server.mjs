// The seed example on Fastify 5 + @fastify/session, for the HTTP benchmark:
// with REDIS_URL, sessions in Redis through connect-redis (which
// @fastify/session accepts); otherwise in its own memory store. Run by
// bench/http_bench.ts with node, after it installs the packages with npm.
// Listens on PORT.
import Fastify from "fastify";
import fastifyCookie from "@fastify/cookie";
import fastifySession from "@fastify/session";
import { RedisStore } from "connect-redis";
import { createClient } from "redis";

const options = {
  secret: "a benchmark secret of at least thirty-two characters",
  cookie: { secure: false },
  saveUninitialized: false,
};
if (process.env.REDIS_URL) {
  const client = await createClient({ url: process.env.REDIS_URL }).connect();
  options.store = new RedisStore({ client });
}

const app = Fastify();
app.register(fastifyCookie);
app.register(fastifySession, options);
app.get("/put", (request, reply) => {
  request.session.set("message", "Hello from a session!");
  reply.send("stored\n");
});
app.get("/count", (request, reply) => {
  const count = (request.session.get("count") ?? 0) + 1;
  request.session.set("count", count);
  reply.send(String(count));
});
app.get("/get", (request, reply) => {
  reply.send(request.session.get("message") ?? "");
});
await app.listen({ port: Number(process.env.PORT), host: "127.0.0.1" });
