// Handing the trained model in to a class on the project's receiver ([cloud] url): the teacher made
// the class (`teachkit class create`) and gave the students its code. What goes is the package
// publishing sends, the name the student typed and the page's training numbers; never an image.
// Owns `handIn`: the upload under way, the last hand-in, and what this browser handed in, each with
// its delete token, which is what lets a student hand in again under the same name (the receiver
// replaces the earlier model only for the holder of its token).
import { TeachkitError, refusal } from "../core/errors.js";
import { classifierOnly, whenReady } from "../core/guards.js";
import { CODE_LENGTH, readClassCode } from "../files/class_code.js";
import { cloudClient } from "../files/cloud_client.js";
import { trainedModelPackage } from "../files/session_files.js";

export const NAME_MAX = 60;

export function initialState() {
  return {
    handIn: {
      sending: null, // while handing in: {sent, total} bytes
      last: null, // the last hand-in: {code, name, id, url, created, replaced}
      handedIn: [], // what this browser handed in: [{code, name, id, url, created, token}]
      kept: true, // false when this browser keeps no storage for the page: the list lasts until it closes
    },
  };
}

function setHandIn({ store }, change) {
  store.set({ handIn: { ...store.get().handIn, ...change } });
}

// The code as the teacher wrote it, however typed: spaces and dashes dropped, upper-cased.
export function classCode(text) {
  const code = readClassCode(text);
  if (!code)
    throw new TeachkitError(
      "bad_argument",
      String(text ?? "").replace(/[\s-]+/g, "")
        ? `"${String(text).trim()}" is not a class code: a code has ${CODE_LENGTH} letters and digits ` +
            "(no 0, O, 1, I or L). Check the code your teacher gave you."
        : "Type the class code your teacher gave you.",
    );
  return code;
}

// The name as it is sent: trimmed, at most NAME_MAX characters, no control characters.
export function studentName(text) {
  const name = String(text ?? "").trim();
  if (!name) throw new TeachkitError("bad_argument", "Type your name (or the name your teacher asked for).");
  if ([...name].length > NAME_MAX)
    throw new TeachkitError(
      "bad_argument",
      `Your name may have at most ${NAME_MAX} characters (it has ${[...name].length}).`,
    );
  if (/[\u0000-\u001f\u007f]/.test(name))
    throw new TeachkitError("bad_argument", "Your name may not hold tabs or line breaks.");
  return name;
}

// Two names are one to the receiver when they differ only in case and spacing.
export function sameName(a, b) {
  const key = (name) => name.trim().replace(/\s+/g, " ").toUpperCase().toLowerCase();
  return key(a) === key(b);
}

// The training numbers the teacher sees beside the model: what kind of head, how long it learned,
// how many examples of each class it learned from and how often it was right on them (the last
// epoch) and on the examples held back for checking; every accuracy with its n.
export function trainingMetrics(state) {
  const { dataset, headRecord, settings } = state;
  const names = headRecord.classIds.map((id) => dataset.classById(id)?.name ?? "?");
  const counts = dataset.counts();
  const last = headRecord.history.at(-1) ?? {};
  // Only a measurement on held-back examples counts (an old page's record measured on the
  // training examples is no measurement; features/training.js heldBackOnly says the same).
  const evaluation = headRecord.evaluation?.onValidation ? headRecord.evaluation : null;
  const perClassCount = evaluation?.confusion.map((row) => row.reduce((sum, value) => sum + value, 0)) ?? [];
  const heldBack = evaluation?.count ?? 0;
  const trainedOn = headRecord.sampleCount ?? dataset.samples.length;
  return {
    head: headRecord.model.kind,
    epochs: headRecord.history.length,
    samplesPerClass: Object.fromEntries(
      names.map((name, index) => [name, counts[headRecord.classIds[index]] ?? 0]),
    ),
    heldBackFraction: settings.training.validation_fraction,
    training: { accuracy: last.accuracy ?? null, count: trainedOn - heldBack },
    validation: {
      accuracy: heldBack ? evaluation.accuracy : null,
      count: heldBack,
      perClass: Object.fromEntries(
        perClassCount.map((count, index) => [
          names[index],
          { recall: count ? evaluation.perClass[index] : null, count },
        ]),
      ),
    },
  };
}

async function remember(context, handedIn) {
  setHandIn(context, { handedIn });
  const { storage } = context.services;
  if (!storage) return false;
  try {
    await storage.saveHandIns(handedIn);
    return true;
  } catch {
    return false;
  }
}

// After boot: what this browser handed in before (its tokens let it hand in again).
export async function start(context) {
  const { store, services } = context;
  if (!store.get().cloud.url) return;
  const handedIn = (await services.storage?.loadHandIns().catch(() => null)) ?? [];
  setHandIn(context, { handedIn });
}

const whenCloud = (state) =>
  state.cloud.url
    ? null
    : refusal("bad_argument", "This page hands in to no class (its project has no [cloud] url).");

export const actions = {
  // Hands the trained model in to the class `code` under `name`. Resolves to {id}.
  handIn: {
    can: (state) =>
      whenCloud(state) ??
      whenReady(state) ??
      classifierOnly(state, "Handing in to a class") ??
      (state.head ? null : refusal("not_trained", "Train the model before handing it in.")) ??
      (state.handIn.sending || state.cloud.upload
        ? refusal("busy", "The model is being sent to the cloud; wait for it.")
        : null),
    async run(context, options) {
      const { store, project, notify } = context;
      if (typeof options !== "object" || options === null)
        throw new TeachkitError("bad_argument", "handIn() needs {code, name}: the class code and your name.");
      const classCodeText = classCode(options.code);
      const who = studentName(options.name);
      const state = store.get();
      const earlier = state.handIn.handedIn.find(
        (item) => item.code === classCodeText && sameName(item.name, who),
      );
      // Busy from here: a second click while the package is made must not send it twice.
      setHandIn(context, { sending: { sent: 0, total: 1 } });
      let answer;
      try {
        const form = new FormData();
        form.append("package", await trainedModelPackage(context, project.title), "model.teachkit-model.zip");
        form.append("name", who);
        form.append("metrics", JSON.stringify(trainingMetrics(state)));
        answer = await cloudClient(state.cloud.url).handIn(
          classCodeText,
          form,
          earlier?.token ?? null,
          (sent, total) => setHandIn(context, { sending: { sent, total } }),
        );
      } finally {
        setHandIn(context, { sending: null });
      }
      const item = {
        code: classCodeText,
        name: who,
        id: answer.id,
        url: answer.url,
        created: new Date().toISOString(),
      };
      // The earlier hand-in under this name is gone from the class (replaced): so is its token.
      const others = store
        .get()
        .handIn.handedIn.filter((each) => !(each.code === classCodeText && sameName(each.name, who)));
      setHandIn(context, { last: { ...item, replaced: Boolean(answer.replaced) } });
      const kept = await remember(context, [{ ...item, token: answer.delete_token }, ...others]);
      setHandIn(context, { kept });
      const again = answer.replaced ? " It replaces what you handed in before under this name." : "";
      const forget = kept
        ? ""
        : " This browser keeps nothing for this page, so it will forget this hand-in when the page " +
          "closes: to hand in again under this name later, use another name or ask your teacher.";
      notify(`Handed in to class ${classCodeText} as "${who}".${again}${forget}`);
      return { id: item.id };
    },
  },
};
