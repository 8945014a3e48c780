// The camera and hold-to-record, on the camera service (media/camera.js). Owns `camera` and
// `recordingClassId`.
import { TeachkitError, refusal } from "../core/errors.js";
import { cameraMissing, nextVideoFrame, releaseStream, startCamera, videoReady } from "../media/camera.js";
import { classById, whenIdle, whenReady } from "../core/guards.js";
import { sampleValue } from "../learning/values.js";
import { makeSample, saveSamples } from "../learning/sampling.js";

// Recorded frames waiting for their embedding; beyond this a slow device records fewer frames
// rather than piling up memory.
const RECORD_BACKLOG = 8;

// `camera.classId` is the class whose card shows the camera's picture (null: none yet).
export function initialState() {
  return { camera: { stream: null, devices: [], deviceId: null, classId: null }, recordingClassId: null };
}

function sleep(milliseconds) {
  return new Promise((resolve) => setTimeout(resolve, milliseconds));
}

export const actions = {
  startCamera: {
    can: (state) => whenReady(state) ?? cameraMissing(),
    run: (context, deviceId = null) => startCamera(context, deviceId),
  },

  stopCamera: {
    can: () => null,
    run(context) {
      context.store.set({ recordingClassId: null });
      context.events.emit("camera-stopped", {}); // live prediction stops first
      releaseStream(context);
      context.services.video.srcObject = null;
    },
  },

  // Hold-to-record: adds frames at the project's rate until stopRecording, and resolves to the
  // number recorded. Frames are recorded only while the visitor can see them: with the camera
  // off, a press starts it and shows its picture in the card, and records nothing.
  startRecording: {
    can: (state) =>
      whenIdle(state) ??
      (state.recordingClassId ? refusal("busy", "Already recording.") : null) ??
      cameraMissing(),
    async run(context, classId) {
      const { store, services, project } = context;
      classById(store.get().dataset, classId);
      const { camera } = store.get();
      store.set({ camera: { ...camera, classId } });
      if (!camera.stream) {
        await startCamera(context, camera.deviceId);
        context.notify(
          "The camera is on. Check its picture in the card, then hold the button again to record.",
        );
        return 0;
      }
      store.set({ recordingClassId: classId });
      let video;
      try {
        video = await videoReady(context);
        // The picture just moved into this card: let it show a frame or two before recording.
        if (camera.classId !== classId) for (let i = 0; i < 2; i += 1) await nextVideoFrame(video);
      } catch (error) {
        store.set({ recordingClassId: null });
        throw error;
      }
      const value = sampleValue(store.get()); // one value for the whole press
      const interval = 1000 / project.capture.fps;
      const saveEvery = Math.max(1, Math.round(project.capture.fps / 2));
      const inFlight = new Set(); // samples whose embedding is still being computed
      let done = [];
      let total = 0;
      let failure = null;
      // Frames are taken on time while the workers embed earlier ones.
      const take = () => {
        const sample = makeSample(context, classId, video, value)
          .then((made) => done.push(made))
          .catch((error) => (failure ??= error))
          .finally(() => inFlight.delete(sample));
        inFlight.add(sample);
      };
      const saveDone = async () => {
        const ready = done;
        done = [];
        await saveSamples(context, ready);
        total += ready.length;
      };
      try {
        while (store.get().recordingClassId === classId && !failure) {
          const started = performance.now();
          if (services.embedder.backlog < RECORD_BACKLOG) take();
          if (done.length >= saveEvery) await saveDone();
          await sleep(Math.max(0, interval - (performance.now() - started)));
        }
        await Promise.all(inFlight);
        if (done.length) await saveDone();
      } finally {
        store.set({ recordingClassId: null });
      }
      const recorded = `Recorded ${total} frame${total === 1 ? "" : "s"}.`;
      if (failure) throw new TeachkitError("failed", `${recorded} Recording stopped: ${failure.message}`);
      context.notify(recorded);
      return total;
    },
  },

  stopRecording: {
    can: () => null,
    run({ store }) {
      if (store.get().recordingClassId) store.set({ recordingClassId: null });
    },
  },
};
