// examples/server.ts for `deno serve`, which can run it in several isolates
// at once: sessions must then be in a shared store.
//
//   SESSION_STORE=redis deno serve --parallel --port 4000 --allow-net --allow-env examples/serve.ts

import { handler } from "./server.ts";

export default { fetch: handler } satisfies Deno.ServeDefaultExport;
