// The published documents: every relative link resolves to a file that is
// published (and to a heading there), the README stays short, and the
// testing guide shows its example file as it is.
import assert from "node:assert/strict";

const root = new URL("./", import.meta.url);
const read = (path: string) => Deno.readTextFile(new URL(path, root));

/** The Markdown files JSR publishes with the package. */
async function documents(): Promise<string[]> {
  const docs = [];
  for await (const entry of Deno.readDir(new URL("docs/", root))) {
    if (entry.name.endsWith(".md")) docs.push(`docs/${entry.name}`);
  }
  return [
    "README.md",
    "BENCHMARKS.md",
    "CHANGELOG.md",
    "CONTRIBUTING.md",
    ...docs,
  ];
}

/** Whether `deno.json`'s publish.exclude leaves `path` out. */
function excluded(path: string, patterns: string[]): boolean {
  return patterns.some((pattern) => {
    if (pattern.endsWith("/")) return path.startsWith(pattern);
    if (pattern.startsWith("**/*")) return path.endsWith(pattern.slice(4));
    if (pattern.startsWith("*")) return path.endsWith(pattern.slice(1));
    return path === pattern;
  });
}

/** The anchors GitHub and JSR give a document's headings. */
function anchors(markdown: string): Set<string> {
  const found = new Set<string>();
  for (const [, heading] of markdown.matchAll(/^#+ (.+)$/gm)) {
    found.add(
      heading!.toLowerCase().replace(/[`*]/g, "").replace(/[^\w\- ]/g, "")
        .replace(/ /g, "-"),
    );
  }
  return found;
}

Deno.test("Published documents link only to published files and headings that exist", async () => {
  const config = JSON.parse(await read("deno.json"));
  const patterns: string[] = config.publish.exclude;
  const broken: string[] = [];
  for (const document of await documents()) {
    const text = await read(document);
    const prose = text.replace(/```[\s\S]*?```/g, "");
    for (const [, target] of prose.matchAll(/\]\(([^)\s]+)\)/g)) {
      if (/^[a-z]+:/.test(target!)) continue; // https:, mailto:
      const [file, anchor] = target!.split("#") as [string, string | undefined];
      const path = file === ""
        ? document
        : new URL(file, new URL(document, root)).pathname.slice(
          root.pathname.length,
        );
      let linked: string;
      try {
        linked = (await Deno.stat(new URL(path, root))).isDirectory
          ? ""
          : await read(path);
      } catch {
        broken.push(`${document}: ${target} (no such file)`);
        continue;
      }
      if (excluded(path, patterns)) {
        broken.push(`${document}: ${target} (not published)`);
      }
      if (anchor !== undefined && !anchors(linked).has(anchor)) {
        broken.push(`${document}: ${target} (no such heading)`);
      }
    }
  }
  assert.deepEqual(broken, []);
});

Deno.test("README.md is a front door: under 200 lines", async () => {
  const lines = (await read("README.md")).split("\n").length;
  assert.ok(lines < 200, `${lines} lines`);
});

Deno.test("docs/testing.md shows examples/testing_test.ts as it is", async () => {
  const guide = await read("docs/testing.md");
  const file = await read("examples/testing_test.ts");
  const shown = file.replace('from "../mod.ts";', 'from "@sessions/memstore";');
  assert.ok(guide.includes("```ts\n" + shown + "```"));
});
