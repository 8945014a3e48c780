// Live prediction for `seconds` after a second of warm-up: predictions per second and each
// camera frame's latency; and the camera's own frame rate over the same time.
async ({ seconds }) => {
  await window.teachkit.startCamera();
  const video = document.querySelector('[data-testid="video"]');
  for (let i = 0; i < 200 && video.readyState < 2; i += 1) await new Promise((r) => setTimeout(r, 50));
  const latencies = [];
  let counting = false;
  const off = window.teachkit.on("prediction", (p) => {
    if (counting && p.source === "camera") latencies.push(p.milliseconds);
  });
  await window.teachkit.startLive();
  await new Promise((r) => setTimeout(r, 1000));
  const frame = () => new Promise((r) => video.requestVideoFrameCallback((now, meta) => r(meta)));
  counting = true;
  const first = { n: window.teachkit.status().predictions, t: performance.now(), frame: await frame() };
  await new Promise((r) => setTimeout(r, seconds * 1000));
  const last = { n: window.teachkit.status().predictions, t: performance.now(), frame: await frame() };
  counting = false;
  off();
  await window.teachkit.stopLive();
  await window.teachkit.stopCamera();
  const cameraSeconds = (last.frame.expectedDisplayTime - first.frame.expectedDisplayTime) / 1000;
  return {
    fps: ((last.n - first.n) * 1000) / (last.t - first.t),
    cameraFps: (last.frame.presentedFrames - first.frame.presentedFrames) / cameraSeconds,
    latencies,
  };
};
