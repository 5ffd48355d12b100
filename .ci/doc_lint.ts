// `deno doc --lint` on every entry point of deno.json, each on its own, as
// JSR documents each one: every error fails, but one: the Hono
// middleware's return type is Hono's own `MiddlewareHandler`, which Hono
// needs to type `c.var.session` in the handlers after it (it infers the
// variables from that very type); re-exporting it would mean re-exporting
// and documenting Hono's whole type tree.
//
//   deno run --allow-read --allow-run .ci/doc_lint.ts

const ALLOWED: Record<string, string> = {
  "./hono.ts": "references private type 'MiddlewareHandler'",
};

const root = new URL("../", import.meta.url);
const config = JSON.parse(
  await Deno.readTextFile(new URL("deno.json", root)),
) as { exports: Record<string, string> };
let failed = 0;
for (const file of new Set(Object.values(config.exports))) {
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["doc", "--lint", "--lock=test.lock", file],
    cwd: root,
    env: { NO_COLOR: "1" },
  }).output();
  const text = new TextDecoder().decode(output.stdout) +
    new TextDecoder().decode(output.stderr);
  const errors = text.split("\n").filter((line) => line.startsWith("error["))
    .filter((line) => !(ALLOWED[file] && line.includes(ALLOWED[file])));
  const code = output.code !== 0 && errors.length === 0 && !ALLOWED[file];
  if (errors.length > 0 || code) {
    failed++;
    console.error(`${file}:\n${text}`);
  } else {
    console.log(`${file}: ok`);
  }
}
if (failed > 0) {
  console.error(`deno doc --lint: ${failed} entry points have errors`);
  Deno.exit(1);
}
