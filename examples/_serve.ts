// Serves an example on $PORT (default 4000), and says in one line what to
// do when that port is taken, instead of a stack trace.

/**
 * Starts `Deno.serve` for `handler` on `$PORT` or 4000.
 *
 * @param handler The example's handler.
 * @param task The `deno task` that runs the example, for the message.
 */
export function serve(
  handler: (request: Request) => Response | Promise<Response>,
  task: string,
): Deno.HttpServer {
  const port = Number(Deno.env.get("PORT") ?? 4000);
  try {
    return Deno.serve({ port }, handler);
  } catch (error) {
    if (!(error instanceof Deno.errors.AddrInUse)) throw error;
    console.error(
      `Port ${port} is in use (another demo?). Pick another: PORT=${
        port + 1
      } deno task ${task}`,
    );
    Deno.exit(1);
  }
}
