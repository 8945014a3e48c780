// Loaded with `node --import` before every test file: installs resolve_hook.mjs, and gives Node the
// one browser function the app's training loop looks for first (head.js yieldToBrowser). Without it
// the loop would yield through a MessageChannel, whose open port keeps a test's process alive.
import { register } from "node:module";

register("./resolve_hook.mjs", import.meta.url);

globalThis.scheduler ??= { yield: () => new Promise((resolve) => setImmediate(resolve)) };
