// The fake camera's own frame rate over `seconds` (requestVideoFrameCallback).
async (seconds) => {
  const video = document.querySelector('[data-testid="video"]');
  for (let i = 0; i < 200 && video.readyState < 2; i += 1) await new Promise((r) => setTimeout(r, 50));
  if (!video.requestVideoFrameCallback) return null;
  const frame = () => new Promise((r) => video.requestVideoFrameCallback((now, meta) => r(meta)));
  const first = await frame();
  await new Promise((r) => setTimeout(r, seconds * 1000));
  const last = await frame();
  const seconds_ = (last.expectedDisplayTime - first.expectedDisplayTime) / 1000;
  return (last.presentedFrames - first.presentedFrames) / seconds_;
};
