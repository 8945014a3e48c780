// Installed before any page script (a context's init script, called once). Records long tasks;
// data-state changes of [data-testid] elements; when a class card starts or stops recording; text
// changes of sample counts, the backend line and the message; clicks, file choices and presses; how
// long each canvas JPEG encode takes (toBlob: from call to callback; toDataURL: the call); and, once
// the page script has made window.teachkit (it runs before DOMContentLoaded), through the public
// API: whether a trained head is there at ready, every notice the page shows, and each live
// prediction's start and latency.
() => {
  const bench = { longtasks: [], events: [], encodes: [], predictions: [], notices: [], longtaskError: null };
  bench.trainedAtReady = null;
  bench.apiError = null;
  window.__bench = bench;
  const now = () => performance.now();
  try {
    new PerformanceObserver((list) => {
      for (const entry of list.getEntries()) bench.longtasks.push([entry.startTime, entry.duration]);
    }).observe({ type: "longtask", buffered: true });
  } catch (error) {
    bench.longtaskError = String(error);
  }
  let attached = false;
  const attach = () => {
    const api = window.teachkit;
    if (attached || !api) return;
    attached = true;
    try {
      api.ready.then(
        () => (bench.trainedAtReady = api.status().trained),
        (error) => (bench.apiError = `ready rejected: ${error?.code}: ${error?.message}`),
      );
      api.on("notice", ({ text, kind }) => bench.notices.push([now(), text, kind]));
      api.on("prediction", (p) => {
        if (p.source === "camera") bench.predictions.push([now() - p.milliseconds, p.milliseconds]);
      });
    } catch (error) {
      bench.apiError = String(error);
    }
  };
  document.addEventListener("DOMContentLoaded", attach);
  const TEXTS = new Set(["sample-count", "backend", "message"]);
  new MutationObserver((records) => {
    const t = now();
    attach();
    for (const record of records) {
      const target = record.target;
      const testid = target.dataset?.testid;
      if (!testid) continue;
      const name = target.closest('[data-testid="class"]')?.dataset.className ?? "";
      if (record.type === "attributes" && record.attributeName === "data-state") {
        const value = target.getAttribute("data-state");
        bench.events.push([t, testid, value]);
      } else if (record.type === "attributes") {
        bench.events.push([t, `recording:${target.dataset.className}`, target.dataset.recording]);
      } else if (TEXTS.has(testid)) {
        bench.events.push([t, name ? `${testid}:${name}` : testid, target.textContent]);
      }
    }
  }).observe(document, {
    subtree: true,
    childList: true,
    attributes: true,
    attributeFilter: ["data-state", "data-recording"],
  });
  for (const type of ["click", "change", "pointerdown"]) {
    const note = (event) => bench.events.push([now(), type, event.target?.dataset?.testid ?? ""]);
    document.addEventListener(type, note, true);
  }
  const toBlob = HTMLCanvasElement.prototype.toBlob;
  HTMLCanvasElement.prototype.toBlob = function (callback, ...rest) {
    const started = now();
    return toBlob.call(
      this,
      (blob) => {
        bench.encodes.push([started, now() - started]);
        callback(blob);
      },
      ...rest,
    );
  };
  const toDataURL = HTMLCanvasElement.prototype.toDataURL;
  HTMLCanvasElement.prototype.toDataURL = function (...args) {
    const started = now();
    const url = toDataURL.apply(this, args);
    bench.encodes.push([started, now() - started]);
    return url;
  };
};
