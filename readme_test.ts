import assert from "node:assert/strict";

Deno.test("README.md shows examples/testing_test.ts as it is", async () => {
  const readme = await Deno.readTextFile(new URL("README.md", import.meta.url));
  const file = await Deno.readTextFile(
    new URL("examples/testing_test.ts", import.meta.url),
  );
  const shown = file.replace('from "../mod.ts";', 'from "@sessions/memstore";');
  assert.ok(readme.includes("```ts\n" + shown + "```"));
});
