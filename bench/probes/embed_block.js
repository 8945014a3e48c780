// Runs each step of window.__embedSteps `runs` times, each after a yield to the event loop; returns
// the ms of each run and how many tensors outlived the block.
async (runs) => {
  const times = {};
  for (let i = 0; i < runs; i += 1) {
    for (const [name, step] of Object.entries(window.__embedSteps)) {
      await new Promise((resolve) => setTimeout(resolve, 0));
      const started = performance.now();
      await step();
      (times[name] ??= []).push(performance.now() - started);
    }
  }
  return { times, leakedTensors: window._tfengine.memory().numTensors - window.__embedTensors };
};
