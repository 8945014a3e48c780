// The dense head's matMuls for one batch of 16, alone: the forward pass x·W (16x1280 by 1280x100)
// and the kernel's gradient xᵀ·dy (what TF.js's matMul gradient asks for: transposeA), also done as
// an explicit transpose followed by a plain matMul.
({ batch, inputs, units, runs }) => {
  const engine = window._tfengine;
  const tensor = (shape) =>
    engine.makeTensor(Float32Array.from({ length: shape[0] * shape[1] }, Math.random), shape, "float32");
  const x = tensor([batch, inputs]),
    kernel = tensor([inputs, units]),
    dy = tensor([batch, units]);
  const timed = (run) => {
    run();
    const started = performance.now();
    for (let i = 0; i < runs; i += 1) run();
    return (performance.now() - started) / runs;
  };
  const matMul = (a, b, transposeA) => () => {
    const y = engine.runKernel("BatchMatMul", { a, b }, { transposeA, transposeB: false });
    y.dataSync();
    y.dispose();
  };
  const transposed = () => {
    const xt = engine.runKernel("Transpose", { x }, { perm: [1, 0] });
    matMul(xt, dy, false)();
    xt.dispose();
  };
  const result = {
    forward: timed(matMul(x, kernel, false)),
    kernelGradient: timed(matMul(x, dy, true)),
    transposeThenMatMul: timed(transposed),
  };
  for (const t of [x, kernel, dy]) t.dispose();
  return result;
};
