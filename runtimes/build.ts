// Builds the package the way Node and Bun users get it from JSR's npm
// compatibility layer: one JavaScript module per TypeScript module, with
// its type declarations beside it (`x.js` and `x.d.ts`), `./x.ts` imports
// as `./x.js`, `npm:name@range` imports as `name`, and a package.json
// whose exports mirror deno.json's. Also builds
// examples/hono.ts against the built package, for app/check.mjs.
//
//   deno run --allow-read --allow-write --allow-env --allow-sys build.ts

import ts from "typescript";

const root = new URL("../", import.meta.url);
const out = new URL(".build/package/", import.meta.url);
const examples = new URL("app/examples/", import.meta.url);

const config = JSON.parse(
  await Deno.readTextFile(new URL("deno.json", root)),
) as {
  name: string;
  version: string;
  license: string;
  exports: Record<string, string>;
};

/** `npm:name@range/sub` → `name/sub`; `./x.ts` → `./x.js`; else as is. */
function rewrite(specifier: string, local: Record<string, string>): string {
  if (specifier in local) return local[specifier]!;
  const npm = /^npm:(@[^/]+\/[^@/]+|[^@/]+)(?:@[^/]+)?(\/.*)?$/.exec(specifier);
  if (npm) return npm[1]! + (npm[2] ?? "");
  if (/^\.\.?\//.test(specifier)) return specifier.replace(/\.ts$/, ".js");
  return specifier;
}

/** TypeScript to JavaScript, with every import specifier rewritten. */
function transpile(source: string, local: Record<string, string> = {}) {
  const { outputText } = ts.transpileModule(source, {
    compilerOptions: {
      target: ts.ScriptTarget.ES2022,
      module: ts.ModuleKind.ESNext,
      verbatimModuleSyntax: true,
    },
  });
  return rewriteSpecifiers(outputText, local);
}

/** The modules reachable from the package's exports. */
async function modules(): Promise<string[]> {
  const seen = new Set<string>();
  const queue = Object.values(config.exports).map((path) => path.slice(2));
  while (queue.length > 0) {
    const file = queue.pop()!;
    if (seen.has(file)) continue;
    seen.add(file);
    const source = await Deno.readTextFile(new URL(file, root));
    for (const [, specifier] of source.matchAll(/from\s+"(\.\/[^"]+\.ts)"/g)) {
      queue.push(specifier!.slice(2));
    }
  }
  return [...seen].sort();
}

/** Every `from "x"` and `import("x")` specifier in `code`, rewritten. */
function rewriteSpecifiers(
  code: string,
  local: Record<string, string> = {},
): string {
  return code.replace(
    /((?:import|export)[^"';]*?from\s*|import\s*\(\s*|import\s+)(["'])([^"']+)\2/g,
    (_, head: string, quote: string, specifier: string) =>
      `${head}${quote}${rewrite(specifier, local)}${quote}`,
  );
}

/**
 * The type declarations of `files` (`x.ts` → `x.d.ts` text). Every export
 * has an explicit type, so each file's declarations are its own, whatever
 * TypeScript makes of the `npm:` imports and the `Deno` namespace.
 */
function declarations(files: string[]): Map<string, string> {
  const emitted = new Map<string, string>();
  const program = ts.createProgram(
    files.map((file) => new URL(file, root).pathname),
    {
      declaration: true,
      emitDeclarationOnly: true,
      allowImportingTsExtensions: true,
      target: ts.ScriptTarget.ES2022,
      module: ts.ModuleKind.ESNext,
      moduleResolution: ts.ModuleResolutionKind.Bundler,
      strict: true,
      noResolve: true,
      types: [],
    },
  );
  program.emit(undefined, (name, text) => {
    emitted.set(name.slice(name.lastIndexOf("/") + 1), text);
  });
  return emitted;
}

await Deno.remove(out, { recursive: true }).catch(() => {});
await Deno.mkdir(out, { recursive: true });
const files = await modules();
const types = declarations(files);
for (const file of files) {
  const source = await Deno.readTextFile(new URL(file, root));
  await Deno.writeTextFile(
    new URL(file.replace(/\.ts$/, ".js"), out),
    transpile(source),
  );
  const declared = types.get(file.replace(/\.ts$/, ".d.ts"));
  if (declared === undefined) throw new Error(`no declarations for ${file}`);
  await Deno.writeTextFile(
    new URL(file.replace(/\.ts$/, ".d.ts"), out),
    rewriteSpecifiers(declared),
  );
}

// The frameworks of the optional middleware: peer dependencies, which the
// app brings.
const peerDependencies: Record<string, string> = {
  "hono": "^4.6.0",
  "@oakserver/oak": "^14.1.0",
};
await Deno.writeTextFile(
  new URL("package.json", out),
  JSON.stringify(
    {
      name: config.name,
      version: config.version,
      license: config.license,
      type: "module",
      exports: Object.fromEntries(
        Object.entries(config.exports).map((
          [key, path],
        ) => [key, {
          types: path.replace(/\.ts$/, ".d.ts"),
          default: path.replace(/\.ts$/, ".js"),
        }]),
      ),
      peerDependencies,
      peerDependenciesMeta: Object.fromEntries(
        Object.keys(peerDependencies).map((name) => [name, { optional: true }]),
      ),
    },
    null,
    2,
  ) + "\n",
);

await Deno.mkdir(examples, { recursive: true });
await Deno.writeTextFile(
  new URL("hono.js", examples),
  transpile(
    await Deno.readTextFile(new URL("examples/hono.ts", root)),
    { "../mod.ts": config.name, "../hono.ts": `${config.name}/hono` },
  ),
);
console.log(`built ${config.name} in ${out.pathname}`);
