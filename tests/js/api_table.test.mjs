// api/methods.js is the one list of window.teachkit's methods: the page's object, the manual's
// table and the codes the app throws must agree with it and with core/errors.js.
import assert from "node:assert/strict";
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { METHODS, MEMBERS } from "../../templates/app/api/methods.js";
import { ERROR_CODES } from "../../templates/app/core/errors.js";
import { fakePage } from "./support/page.mjs";

const ROOT = new URL("../../", import.meta.url).pathname;
const APP = join(ROOT, "templates/app");
const names = METHODS.map((row) => row.name);

function sources(folder = APP) {
  return readdirSync(folder, { withFileTypes: true }).flatMap((entry) => {
    const path = join(folder, entry.name);
    if (entry.isDirectory()) return sources(path);
    return entry.name.endsWith(".js") ? [{ path, text: readFileSync(path, "utf8") }] : [];
  });
}

test("the table names each method once, with its arguments", () => {
  assert.equal(new Set(names).size, names.length);
  for (const row of METHODS) {
    assert.ok(Array.isArray(row.params), `${row.name} has no params`);
    assert.ok(
      [undefined, "first", "second", "items", "secondItems"].includes(row.images),
      `${row.name}: images`,
    );
  }
});

test("window.teachkit has the table's methods and members, nothing else", () => {
  const page = fakePage();
  try {
    assert.deepEqual(Object.keys(page.api).sort(), [...names, ...MEMBERS].sort());
    for (const name of names) assert.equal(typeof page.api[name], "function", name);
  } finally {
    page.close();
  }
});

test("every action the table dispatches is registered by a feature", () => {
  const page = fakePage();
  try {
    for (const { name, action } of METHODS.filter((row) => row.action))
      assert.doesNotThrow(() => page.actions.can(action), `${name}: no action named ${action}`);
  } finally {
    page.close();
  }
});

test("the manual's API table lists the table's methods, `ready` and `on`", () => {
  const manual = readFileSync(join(ROOT, "docs/embedding.md"), "utf8");
  const table = manual.slice(manual.indexOf("| member |")).split("\n\n")[0];
  const rows = table.split("\n").slice(2);
  const documented = rows.flatMap((row) =>
    [...row.split("|")[1].matchAll(/`(\w+)[(`]/g)].map((match) => match[1]),
  );
  assert.deepEqual(
    [...new Set(documented)].sort(),
    [...names, ...MEMBERS.filter((name) => name !== "version")].sort(),
  );
});

test("host pages are asked for consent exactly where the table says", () => {
  const state = { headRecord: { model: { kind: "knn" } } };
  const asks = METHODS.filter((row) => row.consent?.(state, [{ includeSamples: true }]));
  assert.deepEqual(asks.map((row) => row.name).sort(), [
    "deletePublished",
    "downloadModel",
    "exportProject",
    "handIn",
    "importProject",
    "publish",
    "samples",
  ]);
  const plain = { headRecord: { model: { kind: "dense" } } };
  const download = METHODS.find((row) => row.name === "downloadModel");
  assert.equal(download.consent(plain, []), null);
});

test("every error code the app throws or refuses with is in ERROR_CODES", () => {
  const thrown = new Map();
  for (const { path, text } of sources()) {
    for (const match of text.matchAll(/(?:new TeachkitError|refusal)\(\s*"([^"]+)"/g))
      thrown.set(match[1], path.slice(ROOT.length));
  }
  assert.ok(thrown.size >= 10, `only ${thrown.size} codes found: is the pattern stale?`);
  for (const [code, where] of thrown) assert.ok(ERROR_CODES.includes(code), `"${code}" (${where})`);
});

test("the manual names every error code", () => {
  const manual = readFileSync(join(ROOT, "docs/embedding.md"), "utf8");
  const paragraph = manual.slice(manual.indexOf("Failures reject with")).split("\n\n")[0];
  const named = new Set([...paragraph.matchAll(/`(\w+)`/g)].map((match) => match[1]));
  for (const code of ERROR_CODES) assert.ok(named.has(code), `"${code}" is not in docs/embedding.md`);
});

test("embed.d.ts types every method of the table, and what embed.js adds", () => {
  const types = readFileSync(join(APP, "embed.d.ts"), "utf8");
  const client = types.slice(types.indexOf("export interface TeachkitClient {"));
  const body = client.slice(0, client.indexOf("\n}\n"));
  const typed = [...body.matchAll(/^ {2}(?:readonly )?(\w+)[(:]/gm)].map((match) => match[1]);
  assert.deepEqual(typed.sort(), [...names, ...MEMBERS, "title", "close"].sort());
  const codes = [...types.matchAll(/^ {2}\| "(\w+)";?$/gm)].map((match) => match[1]);
  assert.deepEqual(codes, ERROR_CODES);
  assert.match(types, /^export function connect\(/m);
  assert.match(types, /^export function load\(/m);
});
