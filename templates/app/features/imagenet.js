// "What the base model sees": the base model's own ImageNet top 5 for the current image (the last
// one classified, uploaded or from the camera), named as WordNet synsets with their definitions and
// hypernym paths. The classifier is fetched only when the panel first opens. Owns `imagenet`.
import { TeachkitError, refusal } from "../core/errors.js";
import { loadImagenet } from "../runtime/imagenet_classifier.js";
import { openImage } from "../media/images.js";
import { whenReady } from "../core/guards.js";
import { embedSource } from "../learning/sampling.js";

const SHOWN = 5;

export function initialState(project) {
  return {
    imagenet: {
      available: Boolean(project.model.imagenet),
      status: "closed", // closed | loading | ready | error
      open: false, // the panel is open: only then does it follow the current image
      top: null, // for the current image: [{synset, name, definition, path, probability}]
      licence: null,
    },
  };
}

function whenAvailable(state) {
  return state.imagenet.available
    ? null
    : refusal("bad_argument", "This page's base model has no ImageNet classifier to show.");
}

function setImagenet({ store }, change) {
  store.set({ imagenet: { ...store.get().imagenet, ...change } });
}

// The classifier, loaded once per page (a failed load is tried again next time).
function classifier(context) {
  const { services, options } = context;
  services.imagenet ??= loadImagenet(options.imagenet).catch((error) => {
    services.imagenet = null;
    throw new TeachkitError("failed", `The ImageNet classifier could not be loaded: ${error.message}`);
  });
  return services.imagenet;
}

// Keeps the top 5 in step with the current image while the panel is open (a closed panel costs
// live prediction nothing).
export async function start(context) {
  const { store } = context;
  store.subscribe((state, previous) => {
    const { status, open } = state.imagenet;
    if (state.prediction === previous.prediction || status !== "ready" || !open) return;
    showTop(context, state.prediction);
  });
}

async function embedImage(context, image) {
  const opened = await openImage(image);
  try {
    return await embedSource(context, opened.source);
  } catch (error) {
    throw new TeachkitError("bad_image", `The image could not be read: ${error.message}`);
  } finally {
    opened.close();
  }
}

async function showTop(context, prediction) {
  const loaded = await classifier(context);
  setImagenet(context, { top: prediction?.embedding ? loaded.topK(prediction.embedding, SHOWN) : null });
}

export const actions = {
  // The panel opened: load the classifier, then show the current image's top 5.
  showBaseModel: {
    can: whenAvailable,
    async run(context) {
      if (context.store.get().imagenet.status !== "ready") {
        setImagenet(context, { status: "loading", open: true });
        try {
          const loaded = await classifier(context);
          setImagenet(context, { status: "ready", licence: loaded.licence });
        } catch (error) {
          setImagenet(context, { status: "error" });
          throw error;
        }
      }
      setImagenet(context, { open: true });
      // What was looked at before stays until there is a current image to show.
      const { prediction } = context.store.get();
      if (prediction?.embedding) await showTop(context, prediction);
    },
  },

  // The panel closed: it stops following the current image.
  hideBaseModel: {
    can: () => null,
    async run(context) {
      setImagenet(context, { open: false });
    },
  },

  // Resolves to the base model's top `k` ImageNet classes for `image`.
  baseModelTopK: {
    can: (state) => whenAvailable(state) ?? whenReady(state),
    async run(context, image, k = SHOWN) {
      if (!Number.isInteger(k) || k < 1 || k > 1000)
        throw new TeachkitError("bad_argument", "baseModelTopK needs k from 1 to 1000.");
      return (await classifier(context)).topK(await embedImage(context, image), k);
    },
  },

  // The panel's own "Choose an image…": what the base model sees in it, trained or not.
  lookAtImage: {
    can: (state) => whenAvailable(state) ?? whenReady(state),
    async run(context, image) {
      const embedding = await embedImage(context, image);
      setImagenet(context, { top: (await classifier(context)).topK(embedding, SHOWN) });
    },
  },
};
