// The teacher's view (the page opened with ?teacher, in a build with [cloud] url): a class's
// submissions from the receiver, and every comparable one tested on the teacher's own test images
// in this browser. Each image is embedded once by the page's embedder (the crop `predict` and
// `evaluate` take), each submission's head is opened once, every head answers every image, and the
// heads are disposed when the run ends. The images are never sent anywhere. Owns `teacher`.
import { TeachkitError, refusal } from "../core/errors.js";
import { readClassCode } from "../files/class_code.js";
import { cloudClient } from "../files/cloud_client.js";
import { describeBase, openedHead } from "../files/published_head.js";
import { classifierOnly, whenReady } from "../core/guards.js";
import { yieldToBrowser } from "../learning/head.js";
import { embedSource } from "../learning/sampling.js";
import { openImage } from "../media/images.js";
import { compareResults, labelMap, whyNotComparable } from "../learning/class_compare.js";

export function initialState() {
  return {
    teacher: {
      code: "",
      remember: false, // whether the code and token are kept in this browser
      listing: null, // the receiver's answer: {code, title, closed, created, submissions}
      loading: false,
      // The run: {state: "running" | "stopped" | "failed", done, total, text}; null before one.
      run: null,
      stopRequested: false,
      // The last finished comparison: {classes, truths, names, members, notComparable, count,
      // auth, result}; `members` keep their probabilities so the ensemble can be chosen again.
      comparison: null,
      single: null, // the last image run through every model: {name, answers: [{id, name, label, confidence}]}
    },
  };
}

function setTeacher({ store }, change) {
  store.set({ teacher: { ...store.get().teacher, ...change } });
}

function whenCloud(state) {
  return state.cloud?.url
    ? null
    : refusal("bad_argument", "This page has no class features (its project has no [cloud] url).");
}

function whenRunning(state) {
  return state.teacher.run?.state === "running"
    ? refusal("busy", "The class's models are being compared; wait for it, or stop it.")
    : null;
}

// Where this browser keeps the teacher's code and token, when asked to: one key per page.
function memoryKey(context) {
  return `${context.options?.storeName ?? "teachkit"}:teacher`;
}

function storage() {
  try {
    return globalThis.localStorage ?? null;
  } catch {
    return null; // a browser that gives this page no storage
  }
}

export function readRemembered(context) {
  try {
    const saved = JSON.parse(storage()?.getItem(memoryKey(context)) ?? "null");
    return saved && typeof saved.code === "string" && typeof saved.token === "string" ? saved : null;
  } catch {
    return null;
  }
}

function remember(context, { code, token }, keep) {
  try {
    if (keep) storage()?.setItem(memoryKey(context), JSON.stringify({ code, token }));
    else storage()?.removeItem(memoryKey(context));
  } catch {
    context.notify("This browser would not keep the code and token; enter them again next time.", "error");
  }
}

function checkAuth(auth) {
  if (!auth || typeof auth !== "object")
    throw new TeachkitError("bad_argument", "Give the class's code and its teacher token: {code, token}.");
  const code = readClassCode(auth.code);
  if (!code)
    throw new TeachkitError(
      "unknown_class_code",
      `"${String(auth.code ?? "").trim()}" is not a class code: a code is 7 letters and digits, like ABC2345.`,
    );
  const token = String(auth.token ?? "").trim();
  if (!token)
    throw new TeachkitError(
      "no_token",
      "Enter the class's teacher token: `teachkit class create` printed it once, beside the code.",
    );
  return { code, token };
}

// The receiver's refusals of a class read, in the teacher's words (cloud_client keeps what the
// receiver answered as `error.answer`: {status, code, message}).
function classError(error, code) {
  const { status, code: answered } = error?.answer ?? {};
  if (answered === "unknown_class_code")
    return new TeachkitError(
      "unknown_class_code",
      `There is no class with the code ${code} on this page's cloud; check the code (\`teachkit class list\` shows your classes).`,
    );
  if (answered === "wrong_token" || status === 403)
    return new TeachkitError(
      "wrong_token",
      `That teacher token is not the one of class ${code} (error 403): copy the token \`teachkit class create\` printed for it.`,
    );
  if (answered === "no_token" || status === 401)
    return new TeachkitError(
      "no_token",
      "The cloud asked for the class's teacher token (error 401): enter the token `teachkit class create` printed.",
    );
  // A receiver that knows no classes (one older than them) says only "not found".
  if (status === 404)
    return new TeachkitError(
      "cloud_refused",
      "The cloud of this page keeps no classes (error 404): run a newer `teachkit receive`.",
    );
  return error;
}

async function fetchListing(context, auth) {
  const client = cloudClient(context.store.get().cloud.url);
  try {
    return await client.submissions(auth.code, auth.token);
  } catch (error) {
    throw classError(error, auth.code);
  }
}

function plural(count, noun) {
  return `${count} ${noun}${count === 1 ? "" : "s"}`;
}

function checkImages(images) {
  if (!Array.isArray(images) || !images.length)
    throw new TeachkitError("bad_argument", "Give the test images as a list of {image, className}.");
  for (const item of images)
    if (!item || typeof item !== "object" || !("image" in item) || typeof item.className !== "string")
      throw new TeachkitError("bad_argument", "Each test image is {image, className}.");
    else if (!item.className.trim())
      throw new TeachkitError("bad_argument", "Each test image needs its class's name.");
}

// The receiver's client, with each submission's files read from it once per page: a model under
// an id never changes (a hand-in again gets a new id), and the receiver counts every request
// against its per-address rate (`teachkit receive --rate`), which thirty students' models read
// again for every comparison would soon use up. Kept until the page closes.
function filesOnce(context) {
  const client = cloudClient(context.store.get().cloud.url);
  const kept = (context.services.submissionFiles ??= new Map());
  const once = (kind) => (id, name) => {
    const key = `${kind} ${id}/${name}`;
    if (!kept.has(key))
      kept.set(
        key,
        client[kind](id, name).catch((error) => {
          kept.delete(key); // a failure is not kept: the next comparison asks again
          throw error;
        }),
      );
    return kept.get(key);
  };
  return { ...client, text: once("text"), bytes: once("bytes") };
}

// Opens the head of every comparable submission; the others get their reason. Resolves to
// {members: [{id, name, head, index: Map(classId → position in classes)}], notComparable}.
async function openSubmissions(context, submissions, classes) {
  const { store, project } = context;
  const client = filesOnce(context);
  const members = [];
  const notComparable = [];
  try {
    for (const submission of submissions) {
      if (store.get().teacher.stopRequested) break;
      const { id, name } = submission;
      let metadata;
      try {
        metadata = JSON.parse(await client.text(id, "metadata.json"));
      } catch (error) {
        notComparable.push({ id, name, reason: `its files could not be read (${error.message})` });
        continue;
      }
      const reason = whyNotComparable(metadata, project.model.identity, classes, describeBase);
      if (reason) {
        notComparable.push({ id, name, reason });
        continue;
      }
      try {
        const made = await openedHead(client, id, metadata, project.model.embedding_size);
        const mapped = labelMap(metadata.labels, classes);
        const className = new Map(made.head.classIds.map((classId, i) => [classId, mapped[i]]));
        members.push({ id, name, head: made.head, className });
      } catch (error) {
        notComparable.push({ id, name, reason: `its model is damaged (${error.message})` });
      }
    }
  } catch (error) {
    for (const member of members) member.head.dispose();
    throw error;
  }
  return { members, notComparable };
}

// Each member's probabilities for one embedding, by the test's class names.
function answersFor(members, embedding) {
  return members.map(({ head, className }) => {
    const probabilities = head.predict(embedding);
    return Object.fromEntries(head.classIds.map((classId, i) => [className.get(classId), probabilities[i]]));
  });
}

// What the API answers: the comparison without the page's own bookkeeping.
function describe(result) {
  return structuredClone(result);
}

// Which submissions the ensemble takes, from the options: null for none (`ensemble: false`),
// undefined for every comparable one, else the ids asked for (each one the class's).
function ensembleChoice({ ensemble = true, ids } = {}, submissions = []) {
  if (ensemble === false) return null;
  if (ids === undefined || ids === null) return undefined;
  if (!Array.isArray(ids)) throw new TeachkitError("bad_argument", "ids is a list of submission ids.");
  const known = new Set(submissions.map((item) => item.id));
  const unknown = ids.filter((id) => !known.has(id));
  if (unknown.length)
    throw new TeachkitError("bad_argument", `The class has no submission with the id ${unknown.join(", ")}.`);
  return ids;
}

async function compare(context, auth, images, options) {
  const { store, notify } = context;
  const checked = checkAuth(auth);
  checkImages(images);
  // Sorted, so the table's columns do not depend on the order the images came in.
  const classes = [...new Set(images.map((item) => item.className))].sort();
  const total = images.length;
  setTeacher(context, {
    run: { state: "running", done: 0, total, text: "Reading the class's submissions…" },
    stopRequested: false,
    comparison: null, // the last table goes: what shows next is this run's, whole, or nothing
    single: null,
  });
  const stopped = (done) => {
    const text = `Stopped after ${done} of ${plural(total, "image")}: nothing was compared. Compare again to see the table.`;
    setTeacher(context, { run: { state: "stopped", done, total, text }, stopRequested: false });
    return new TeachkitError("failed", text);
  };
  let opened = null;
  try {
    const listing = await fetchListing(context, checked);
    setTeacher(context, { listing });
    const choice = ensembleChoice(options, listing.submissions);
    setTeacher(context, {
      run: {
        state: "running",
        done: 0,
        total,
        text: `Opening ${plural(listing.submissions.length, "model")}…`,
      },
    });
    opened = await openSubmissions(context, listing.submissions, classes);
    if (store.get().teacher.stopRequested) throw stopped(0);
    const { members } = opened;
    const probabilities = members.map(() => []);
    const truths = [];
    const problems = [];
    for (const [index, item] of images.entries()) {
      if (store.get().teacher.stopRequested) throw stopped(index);
      // No models to run (none comparable): the images need not be read at all.
      if (members.length) {
        let source;
        try {
          source = await openImage(item.image, index);
        } catch (error) {
          problems.push(error.message);
          continue;
        }
        let embedding;
        try {
          embedding = await embedSource(context, source.source);
        } catch (error) {
          problems.push(`"${item.name ?? `image ${index + 1}`}" could not be tested: ${error.message}`);
          continue;
        } finally {
          source.close();
        }
        answersFor(members, embedding).forEach((answer, i) => probabilities[i].push(answer));
      }
      truths.push(item.className);
      setTeacher(context, {
        run: {
          state: "running",
          done: index + 1,
          total,
          text: `Tested ${index + 1} of ${plural(total, "image")} with ${plural(members.length, "model")}…`,
        },
      });
      await yieldToBrowser();
    }
    if (!truths.length)
      throw new TeachkitError("bad_image", `No image could be tested. ${problems.join(" ")}`);
    const gathered = {
      classes,
      truths,
      members: members.map(({ id, name }, i) => ({ id, name, probabilities: probabilities[i] })),
      notComparable: opened.notComparable,
    };
    // Asked-for ids that are not comparable are left out: they are listed with their reason.
    const ids =
      choice === null
        ? null
        : (choice ?? members.map((member) => member.id)).filter((id) => members.some((m) => m.id === id));
    const result = compareResults({ ...gathered, ensembleIds: ids });
    setTeacher(context, {
      run: { state: "done", done: total, total, text: "" },
      comparison: { ...gathered, auth: checked, result, problems },
      single: null,
    });
    notify(
      [
        `Compared ${plural(members.length, "model")} on ${plural(truths.length, "test image")}` +
          (opened.notComparable.length ? `; ${opened.notComparable.length} could not be compared.` : "."),
        problems.join(" "),
      ]
        .filter(Boolean)
        .join(" "),
      problems.length ? "error" : "info",
    );
    return describe(result);
  } catch (error) {
    if (store.get().teacher.run?.state === "running")
      setTeacher(context, {
        run: { state: "failed", done: 0, total, text: error.message },
        stopRequested: false,
      });
    throw error;
  } finally {
    for (const member of opened?.members ?? []) member.head.dispose();
  }
}

export function start(context) {
  const saved = context.store.get().cloud?.url ? readRemembered(context) : null;
  if (saved) setTeacher(context, { code: saved.code, remember: true });
}

export const actions = {
  // The class's submissions (the receiver's answer as it is); with `remember` the code and token
  // are kept in this browser (localStorage), without it forgotten.
  classSubmissions: {
    can: (state) => whenCloud(state),
    async run(context, auth) {
      const checked = checkAuth(auth);
      setTeacher(context, { loading: true });
      try {
        let listing;
        try {
          listing = await fetchListing(context, checked);
        } catch (error) {
          setTeacher(context, { listing: null }); // no list shown under a code or token refused
          throw error;
        }
        setTeacher(context, { listing, code: checked.code });
        if (typeof auth.remember === "boolean") {
          remember(context, checked, auth.remember);
          setTeacher(context, { remember: auth.remember });
        }
        return structuredClone(listing);
      } finally {
        setTeacher(context, { loading: false });
      }
    },
  },

  // The remembered code and token, for the view to fill in (never through the API).
  rememberedTeacher: {
    can: (state) => whenCloud(state),
    run: (context) => readRemembered(context),
  },

  // Every comparable submission tested on `images` ([{image, className}], the teacher's own) and
  // compared: see class_compare.js's compareResults for what it resolves to.
  compareSubmissions: {
    can: (state) =>
      whenCloud(state) ??
      whenReady(state) ??
      classifierOnly(state, "Comparing a class's models") ??
      whenRunning(state),
    run: (context, auth, images, options = {}) => compare(context, auth, images, options ?? {}),
  },

  // Ends a comparison under way after the current image; nothing of it is shown as a result.
  stopComparison: {
    can: () => null,
    run(context) {
      if (context.store.get().teacher.run?.state === "running") setTeacher(context, { stopRequested: true });
    },
  },

  // The ensemble of other members of the last comparison ([] for none), without testing again.
  chooseEnsemble: {
    can: (state) =>
      state.teacher.comparison ? null : refusal("bad_argument", "Compare the class's models first."),
    run(context, ids) {
      const { comparison } = context.store.get().teacher;
      const known = ids.filter((id) => comparison.members.some((member) => member.id === id));
      const result = compareResults({ ...comparison, ensembleIds: known });
      setTeacher(context, { comparison: { ...comparison, result } });
      return describe(result.ensemble);
    },
  },

  // One image through every model the last comparison could compare: each one's answer and how
  // sure it is, [{id, name, label, confidence}].
  runImageThroughAll: {
    can: (state) =>
      whenCloud(state) ??
      whenReady(state) ??
      whenRunning(state) ??
      (state.teacher.comparison ? null : refusal("bad_argument", "Compare the class's models first.")),
    async run(context, image) {
      const { comparison } = context.store.get().teacher;
      const submissions = comparison.members.map(({ id, name }) => ({ id, name }));
      const source = await openImage(image);
      let embedding;
      try {
        embedding = await embedSource(context, source.source);
      } catch (error) {
        throw new TeachkitError("bad_image", `That image could not be run: ${error.message}`);
      } finally {
        source.close();
      }
      const { members } = await openSubmissions(context, submissions, comparison.classes);
      try {
        const answers = answersFor(members, embedding).map((byClass, i) => {
          const [label, confidence] = Object.entries(byClass).reduce((best, entry) =>
            entry[1] > best[1] ? entry : best,
          );
          return { id: members[i].id, name: members[i].name, label, confidence };
        });
        const single = { name: image?.name ?? "image", answers };
        setTeacher(context, { single });
        return structuredClone(answers);
      } finally {
        for (const member of members) member.head.dispose();
      }
    },
  },
};
