// A copy of the trained model in the cloud: publish it to the project's receiver ([cloud] url),
// open a published one by its link or id, and delete what this browser published. The images stay
// home unless the visitor ticks "include my example images". Owns `cloud` and `openedModel` (the
// model that answers predictions instead of the page's own while it is open; its head is made and
// disposed here).
import { TeachkitError, refusal } from "../core/errors.js";
import { cloudClient } from "../files/cloud_client.js";
import { describeBase, openedHead } from "../files/published_head.js";
import { classifierOnly, whenReady } from "../core/guards.js";
import { projectFile, trainedModelPackage } from "../files/session_files.js";

const ID = /^[A-Za-z0-9_-]{4,64}$/;
const TITLE_MAX = 200;
const NOTE_MAX = 2000;

export function initialState(project) {
  return {
    cloud: {
      url: project.cloud?.url ?? null,
      published: [], // what this browser published: [{id, title, url, link, created}] (+ its token)
      upload: null, // while publishing: {sent, total} bytes
      last: null, // the copy published last: {id, title, url, link}
      listing: null, // the receiver's list, when it lists: [{id, title, note, created, labels}]
    },
    openedModel: null, // {id, title, note, labels, head, names: Map(classId → label), url, link}
  };
}

function whenCloud(state) {
  return state.cloud.url
    ? null
    : refusal("bad_argument", "This page keeps no copies in the cloud (its project has no [cloud] url).");
}

function setCloud({ store }, change) {
  store.set({ cloud: { ...store.get().cloud, ...change } });
}

// The link a person follows to see the model in this page; from a file there is no page to link
// to, so the receiver's address is the link.
function pageLink(id, url) {
  if (!/^https?:$/.test(location.protocol)) return url;
  const link = new URL(location.href);
  link.search = new URLSearchParams({ model: id }).toString();
  link.hash = "";
  return link.href;
}

// The model's id, from an id, the receiver's address of the model, or a page link (?model=…).
function modelId(base, linkOrId) {
  const text = String(linkOrId ?? "").trim();
  if (ID.test(text)) return text;
  let url;
  try {
    url = new URL(text);
  } catch {
    throw new TeachkitError("bad_argument", `"${text}" is neither a link to a model nor a model's id.`);
  }
  const fromPage = url.searchParams.get("model");
  if (fromPage && ID.test(fromPage)) return fromPage;
  const models = new URL("models/", base).href;
  if (url.href.startsWith(models)) {
    const id = decodeURIComponent(url.href.slice(models.length).split(/[/?#]/)[0]);
    if (ID.test(id)) return id;
  }
  throw new TeachkitError(
    "bad_argument",
    `That link is not a model on this page's cloud (${base}); this page opens only models kept there.`,
  );
}

function closeOpened({ store }) {
  const { openedModel } = store.get();
  if (!openedModel) return false;
  store.set({ openedModel: null }); // the prediction clears itself (features/prediction.js)
  openedModel.head.dispose();
  return true;
}

function remember(context, published) {
  setCloud(context, { published });
  // Not stored (a page the browser gives no storage): kept until the page closes.
  return context.services.storage?.savePublished(published).catch((error) => {
    context.notify(`${error.message} This browser will forget it published this copy.`, "error");
  });
}

// What the visitor sees of their published copies: never the delete tokens.
export function describePublished(published) {
  return published.map(({ id, title, url, link, created, withSamples }) => ({
    id,
    title,
    url,
    link,
    created,
    withSamples,
  }));
}

// After boot: what this browser published before, and a model named by the page's address
// (?model=ID, the link a published copy is shared by).
export async function start(context) {
  const { store, services, actions } = context;
  if (!store.get().cloud.url) return;
  const published = (await services.storage?.loadPublished().catch(() => null)) ?? [];
  setCloud(context, { published });
  // Not awaited: the page is ready while the model comes; a failure is shown like any other.
  const named = new URLSearchParams(location.search).get("model");
  if (named) actions.dispatch("openPublished", [named], { source: "ui" });
}

export const actions = {
  // Sends the trained model (and, with includeSamples, the project file with the example images)
  // to the receiver. Resolves to {id, url, link}.
  publish: {
    can: (state) =>
      whenCloud(state) ??
      whenReady(state) ??
      classifierOnly(state, "A copy in the cloud") ??
      (state.head ? null : refusal("not_trained", "Train the model before keeping a copy in the cloud.")) ??
      (state.cloud.upload ? refusal("busy", "A copy is being sent to the cloud; wait for it.") : null),
    async run(context, { title, note = "", includeSamples = false } = {}) {
      const { store, project, notify } = context;
      const name = String(title ?? project.title).trim() || project.title;
      if (name.length > TITLE_MAX || String(note).length > NOTE_MAX)
        throw new TeachkitError(
          "bad_argument",
          `The title may have at most ${TITLE_MAX} characters and the note ${NOTE_MAX}.`,
        );
      const client = cloudClient(store.get().cloud.url);
      const form = new FormData();
      form.append("package", await trainedModelPackage(context, name), "model.teachkit-model.zip");
      if (includeSamples === true) form.append("project", await projectFile(context), "project.teachkit.zip");
      form.append("title", name);
      form.append("note", String(note));
      setCloud(context, { upload: { sent: 0, total: 1 } });
      let answer;
      try {
        answer = await client.publish(form, (sent, total) => setCloud(context, { upload: { sent, total } }));
      } finally {
        setCloud(context, { upload: null });
      }
      const copy = {
        id: answer.id,
        title: name,
        url: answer.url,
        link: pageLink(answer.id, answer.url),
        created: new Date().toISOString(),
        withSamples: includeSamples === true,
      };
      setCloud(context, { last: copy });
      await remember(context, [{ ...copy, token: answer.delete_token }, ...store.get().cloud.published]);
      notify(`Kept a copy of the model in the cloud: ${copy.link}`);
      return { id: copy.id, url: copy.url, link: copy.link };
    },
  },

  // Deletes a copy this browser published (it holds the copy's delete token).
  deletePublished: {
    can: (state) => whenCloud(state),
    async run(context, id) {
      const { store, notify } = context;
      const { published, last, url } = store.get().cloud;
      const copy = published.find((item) => item.id === id);
      if (!copy)
        throw new TeachkitError("bad_argument", `This browser published no copy with the id "${id}".`);
      try {
        await cloudClient(url).remove(id, copy.token);
      } catch (error) {
        // Gone already (deleted elsewhere): forget it all the same.
        if (!(error.code === "cloud_refused" && /404/.test(error.message))) throw error;
      }
      await remember(
        context,
        store.get().cloud.published.filter((item) => item.id !== id),
      );
      if (last?.id === id) setCloud(context, { last: null });
      notify(`Deleted the copy "${copy.title}" from the cloud.`);
    },
  },

  // The receiver's own list of models (only when it lists them).
  listPublished: {
    can: (state) => whenCloud(state),
    async run(context) {
      const client = cloudClient(context.store.get().cloud.url);
      const info = await client.info();
      const listing = info.lists ? await client.list() : null;
      setCloud(context, { listing });
      return listing;
    },
  },

  // Opens a published model: it answers predictions until closed. Resolves to {id, title, labels}.
  openPublished: {
    can: (state) =>
      whenCloud(state) ?? whenReady(state) ?? classifierOnly(state, "Opening a model from the cloud"),
    async run(context, linkOrId) {
      const { store, project, notify } = context;
      const { url } = store.get().cloud;
      const id = modelId(url, linkOrId);
      const client = cloudClient(url);
      const info = await client.model(id);
      if (info.kind !== "teachkit-model")
        throw new TeachkitError(
          "bad_argument",
          "That model was not made by a teachkit page (it is a plain TF.js model), so this page cannot use it.",
        );
      const metadata = JSON.parse(await client.text(id, "metadata.json"));
      const ours = project.model.identity;
      if (metadata.base?.model_json_sha256 !== ours.model_json_sha256)
        throw new TeachkitError(
          "other_base_model",
          `"${metadata.title || id}" was made with another base model (${describeBase(metadata.base)}) ` +
            `than this page runs (${describeBase(ours)}), so it cannot run here. Open it in a page ` +
            "built with the same base model.",
        );
      let made;
      try {
        made = await openedHead(client, id, metadata, project.model.embedding_size);
      } catch (error) {
        if (error instanceof TeachkitError) throw error;
        throw new TeachkitError("cloud_refused", `That model in the cloud is damaged: ${error.message}.`);
      }
      closeOpened(context);
      const title = info.title || metadata.title || id;
      const modelUrl = client.modelUrl(id);
      store.set({
        openedModel: {
          id,
          title,
          note: info.note ?? "",
          labels: metadata.labels,
          head: made.head,
          names: made.names,
          url: modelUrl,
          link: pageLink(id, modelUrl),
        },
      });
      notify(`Opened "${title}" from the cloud: it answers "Try it" now (${metadata.labels.join(", ")}).`);
      return { id, title, labels: [...metadata.labels] };
    },
  },

  // Back to the page's own model.
  closePublished: {
    can: () => null,
    async run(context) {
      if (closeOpened(context)) context.notify("Back to your own model.");
    },
  },
};
