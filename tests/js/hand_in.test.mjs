// features/hand_in.js on a page without a browser: what a hand-in sends (the model package, the
// name, the training numbers; never an image), the class code and name it accepts, the delete token
// it keeps and sends again under the same name, and the receiver's refusals as the page's codes.
// The receiver is a fake XMLHttpRequest here; tests/test_hand_in.py hands in to the real one.
import assert from "node:assert/strict";
import { afterEach, test } from "node:test";
import { unzipSync } from "fflate";
import { seededRandom } from "../../templates/app/learning/dataset.js";
import { classCode, sameName, studentName } from "../../templates/app/features/hand_in.js";
import { addSamples, closedAfterEach, pageConfig, recordingStorage } from "./support/page.mjs";

const RECEIVER = "http://receiver.test/cloud/";
const page = closedAfterEach();

// Every request the page makes, answered by `answer(request)` → {status, body} or "network".
const sent = [];
let answer = () => ({ status: 500, body: "" });

class FakeRequest {
  constructor() {
    this.headers = {};
    this.upload = {};
    this.responseType = "";
  }
  open(method, url) {
    Object.assign(this, { method, url });
  }
  setRequestHeader(name, value) {
    this.headers[name] = value;
  }
  abort() {}
  send(body) {
    this.body = body;
    sent.push(this);
    setTimeout(() => {
      const reply = answer(this);
      if (reply === "network") return this.onerror();
      this.upload.onprogress?.({ lengthComputable: true, loaded: 10, total: 10 });
      this.status = reply.status;
      this.responseText = typeof reply.body === "string" ? reply.body : JSON.stringify(reply.body);
      this.onload();
    });
  }
}
globalThis.XMLHttpRequest = FakeRequest;
afterEach(() => {
  sent.length = 0;
  answer = () => ({ status: 500, body: "" });
});

// The receiver's 201 for the n-th hand-in.
const accepted = (n, replaced = false) => ({
  status: 201,
  body: { id: `model-${n}`, url: `${RECEIVER}models/model-${n}/`, delete_token: `token-${n}`, replaced },
});
const refused = (status, code, message) => ({ status, body: { error: { code, message } } });

// Storage that keeps the hand-ins in memory (as IndexedDB would) besides recording session writes.
function handInStorage(kept = []) {
  const storage = recordingStorage();
  storage.handIns = kept;
  storage.saveHandIns = async (list) => (storage.handIns = structuredClone(list));
  storage.loadHandIns = async () => structuredClone(storage.handIns);
  return storage;
}

// A trained page with [cloud] url; its base model is a tiny stand-in (the package carries it).
async function trainedPage({ storage = handInStorage(), head = "dense" } = {}) {
  const shown = page({ project: pageConfig({ cloud: { url: RECEIVER } }), storage });
  shown.context.options.model = {
    format: "graph-model",
    modelTopology: { node: [] },
    weightSpecs: [{ name: "w", shape: [2], dtype: "float32" }],
    weightData: new Float32Array([1, 2]).buffer,
  };
  addSamples(shown, 8, seededRandom(3));
  await shown.api.train({ head: { type: head }, training: { epochs: 3 } });
  return shown;
}

async function fields(request) {
  const form = request.body;
  return {
    names: [...form.keys()].sort(),
    name: form.get("name"),
    metrics: JSON.parse(form.get("metrics")),
    package: unzipSync(new Uint8Array(await form.get("package").arrayBuffer())),
  };
}

test("a class code is read as the teacher wrote it, whatever the case, spaces and dashes", () => {
  assert.equal(classCode(" abc-23 45 "), "ABC2345");
  assert.equal(classCode("hjk mnp9"), "HJKMNP9");
  for (const wrong of ["ABC234", "ABC23456", "ABO2345", "AB12345", "abl2345"])
    assert.throws(() => classCode(wrong), { code: "bad_argument", message: /is not a class code/ });
  assert.throws(() => classCode("  "), { message: "Type the class code your teacher gave you." });
  assert.equal(studentName("  Ann B.  "), "Ann B.");
  assert.throws(() => studentName(" "), { code: "bad_argument" });
  assert.throws(() => studentName("x".repeat(61)), { message: /at most 60 characters \(it has 61\)/ });
  assert.equal(studentName("é".repeat(60)), "é".repeat(60));
  assert.throws(() => studentName("Ann\tB"), { code: "bad_argument" });
  assert.ok(sameName(" ann   b ", "ANN B") && sameName("Straße", "STRASSE") && !sameName("Ann", "Anna"));
});

test("a hand-in needs the cloud, a trained model and a valid code and name; nothing is sent before", async () => {
  const plain = page();
  await assert.rejects(plain.api.handIn({ code: "ABC2345", name: "Ann" }), {
    code: "bad_argument",
    message: "This page hands in to no class (its project has no [cloud] url).",
  });
  const untrained = page({ project: pageConfig({ cloud: { url: RECEIVER } }) });
  await assert.rejects(untrained.api.handIn({ code: "ABC2345", name: "Ann" }), {
    code: "not_trained",
    message: "Train the model before handing it in.",
  });
  const shown = await trainedPage();
  await assert.rejects(shown.api.handIn({ code: "ABC0345", name: "Ann" }), { code: "bad_argument" });
  await assert.rejects(shown.api.handIn({ code: "ABC2345", name: "" }), { code: "bad_argument" });
  await assert.rejects(shown.api.handIn(), { code: "bad_argument", message: /needs \{code, name\}/ });
  assert.equal(sent.length, 0);
  assert.deepEqual(shown.storage.handIns, []);
});

test("a hand-in sends the model package, the name and the training numbers, and keeps its token", async () => {
  const shown = await trainedPage();
  answer = () => accepted(1);
  assert.deepEqual(await shown.api.handIn({ code: "abc-2345", name: "  Ann B. " }), { id: "model-1" });
  const [request] = sent;
  assert.equal(request.method, "POST");
  assert.equal(request.url, `${RECEIVER}classes/ABC2345/submissions`);
  assert.equal(request.headers.Authorization, undefined);
  const form = await fields(request);
  assert.deepEqual(form.names, ["metrics", "name", "package"]);
  assert.equal(form.name, "Ann B.");
  // The same package publishing sends: the model, no image.
  const entries = Object.keys(form.package);
  assert.ok(entries.includes("metadata.json") && entries.includes("head/model.json"), entries.join());
  assert.ok(!entries.some((entry) => /^(images|thumbs)\//.test(entry)), entries.join());
  const { evaluation, history } = shown.store.get().training;
  assert.deepEqual(form.metrics, {
    head: "dense",
    epochs: 3,
    samplesPerClass: { Brick: 8, Grass: 8, Gravel: 8 },
    heldBackFraction: 0.25,
    training: { accuracy: history.at(-1).accuracy, count: 18 },
    validation: {
      accuracy: evaluation.accuracy,
      count: 6,
      perClass: Object.fromEntries(
        ["Brick", "Grass", "Gravel"].map((name, index) => [
          name,
          { recall: evaluation.perClass[index], count: 2 },
        ]),
      ),
    },
  });
  assert.equal(typeof form.metrics.validation.accuracy, "number");
  assert.equal(shown.storage.handIns.length, 1);
  const [kept] = shown.storage.handIns;
  assert.deepEqual(
    { ...kept, created: typeof kept.created },
    {
      code: "ABC2345",
      name: "Ann B.",
      id: "model-1",
      url: `${RECEIVER}models/model-1/`,
      created: "string",
      token: "token-1",
    },
  );
  assert.equal(shown.notices.at(-1).text, 'Handed in to class ABC2345 as "Ann B.".');
  assert.equal(shown.store.get().handIn.sending, null);
});

test("a second hand-in under the same name carries the first one's token and replaces it", async () => {
  const shown = await trainedPage();
  let n = 0;
  answer = (request) => {
    n += 1;
    return accepted(n, Boolean(request.headers.Authorization));
  };
  await shown.api.handIn({ code: "ABC2345", name: "Ann" });
  await shown.api.handIn({ code: "ABC2345", name: "  ANN " });
  assert.equal(sent[1].headers.Authorization, "Bearer token-1");
  assert.deepEqual(
    shown.storage.handIns.map(({ code, name, id, token }) => [code, name, id, token]),
    [["ABC2345", "ANN", "model-2", "token-2"]],
  );
  assert.match(shown.notices.at(-1).text, /It replaces what you handed in before under this name\.$/);
  // Another class, or another name: no token goes, and both are kept.
  await shown.api.handIn({ code: "HJK2345", name: "Ann" });
  await shown.api.handIn({ code: "ABC2345", name: "Bea" });
  assert.equal(sent[2].headers.Authorization, undefined);
  assert.equal(sent[3].headers.Authorization, undefined);
  assert.deepEqual(
    shown.storage.handIns.map(({ code, name }) => `${code} ${name}`),
    ["ABC2345 Bea", "HJK2345 Ann", "ABC2345 ANN"],
  );
});

test("what this browser handed in before is loaded at start, and its token used", async () => {
  const earlier = [{ code: "ABC2345", name: "Ann", id: "old", url: "u", created: "c", token: "old-token" }];
  const shown = await trainedPage({ storage: handInStorage(earlier) });
  const { start } = await import("../../templates/app/features/hand_in.js");
  await start(shown.context);
  answer = () => accepted(2, true);
  await shown.api.handIn({ code: "ABC2345", name: "ann" });
  assert.equal(sent[0].headers.Authorization, "Bearer old-token");
  assert.deepEqual(
    shown.storage.handIns.map((item) => item.id),
    ["model-2"],
  );
});

test("the receiver's refusals reach the caller under the page's codes, with the receiver's sentence", async () => {
  const shown = await trainedPage();
  const cases = [
    [
      refused(404, "unknown_class_code", "There is no class with the code ABC2345 here; check the code."),
      {
        code: "unknown_class_code",
        message: "There is no class with the code ABC2345 here; check the code.",
      },
    ],
    [
      refused(409, "class_closed", "The class ABC2345 no longer takes hand-ins; ask your teacher."),
      { code: "class_closed", message: "The class ABC2345 no longer takes hand-ins; ask your teacher." },
    ],
    [
      refused(409, "name_taken", "someone in this class handed in as Ann; choose another name."),
      { code: "name_taken", message: "Someone in this class handed in as Ann; choose another name." },
    ],
    [
      refused(400, "bad_upload", "The metrics are not a JSON object."),
      {
        code: "cloud_refused",
        message: "The cloud refused this (error 400): The metrics are not a JSON object.",
      },
    ],
    [
      refused(429, "too_many", "Too many uploads; wait a minute."),
      {
        code: "cloud_refused",
        message: "The cloud refused this (error 429): Too many uploads; wait a minute.",
      },
    ],
    [
      { status: 404, body: "<h1>Not found</h1>" },
      { code: "cloud_refused", message: /takes no hand-ins/ },
    ],
    [
      { status: 502, body: "bad gateway" },
      {
        code: "cloud_refused",
        message: "The cloud failed (error 502). Nothing here was lost: try again later.",
      },
    ],
    ["network", { code: "cloud_unreachable", message: /cannot be reached\. Nothing here was lost/ }],
  ];
  for (const [reply, expected] of cases) {
    answer = () => reply;
    await assert.rejects(shown.api.handIn({ code: "ABC2345", name: "Ann" }), expected);
    assert.equal(shown.notices.at(-1).kind, "error");
    assert.equal(shown.store.get().handIn.sending, null);
  }
  assert.deepEqual(shown.storage.handIns, []);
  assert.equal(shown.store.get().handIn.last, null);
});

test("a browser that keeps nothing hands in all the same and says it will forget", async () => {
  const storage = handInStorage();
  storage.saveHandIns = async () => {
    throw new Error("refused");
  };
  const shown = await trainedPage({ storage });
  answer = () => accepted(1);
  assert.deepEqual(await shown.api.handIn({ code: "ABC2345", name: "Ann" }), { id: "model-1" });
  assert.match(shown.notices.at(-1).text, /keeps nothing for this page, so it will forget this hand-in/);
  // Until the page closes, it still remembers: a second hand-in replaces the first.
  answer = () => accepted(2, true);
  await shown.api.handIn({ code: "ABC2345", name: "Ann" });
  assert.equal(sent[1].headers.Authorization, "Bearer token-1");
});

test("a nearest-neighbour model is handed in with its head kind, and a host page is asked", async () => {
  const shown = await trainedPage({ head: "knn" });
  answer = () => accepted(1);
  await shown.api.handIn({ code: "ABC2345", name: "Ann" });
  const form = await fields(sent[0]);
  assert.equal(form.metrics.head, "knn");
  assert.equal(form.metrics.epochs, 1);
  assert.ok(form.package["knn/embeddings.f32"]);
  const { METHODS } = await import("../../templates/app/api/methods.js");
  const row = METHODS.find((each) => each.name === "handIn");
  assert.equal(
    row.consent(shown.store.get(), [{}]),
    "hand in your trained model, which holds your examples' embeddings, to a class in the cloud",
  );
});
