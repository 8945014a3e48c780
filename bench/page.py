"""The teaching page in headless Chromium, measured against references taken in the same run.

Builds a 5-class EfficientNet-Lite0 project (quantization auto) with `teachkit build`, serves it on
127.0.0.1, drives it with Playwright and writes page.json and page.md (bench/results/ unless
--out). Every number is a median; every page number sits beside a reference measured by this same
run on this same machine, interleaved where the two are compared directly (the machine is shared):

1. embedding: ms per image for `window.teachkit.embed(canvas)` on a 640x480 photo after warm-up:
   one at a time (latency: crop, post to a worker, embed, answer) and eight at once (throughput,
   ms per image, with the page's two workers), and beside it a whole sample through the API
   (`teachkit.addImages(className, [canvas])`: crop, embedding, two JPEG encodes and saving to
   IndexedDB) and decoding a PNG. The same page with ?workers=0 runs the model on the page.
   References, in alternating blocks with the pages: the same Keras model called as model(x) on one
   image (eager, and inside tf.function; TensorFlow's default threads) and its TFLite conversion
   in tf.lite.Interpreter(num_threads=1), with the default XNNPACK delegate and without it. Ratio
   page/TFLite. Also the page served cross-origin isolated (threaded WASM build).
2. upload: s from the file input's change event to the class's count showing 100, for 100 PNG
   photo crops (256x256), and ms per image (in-page clock).
3. training: s from the click on Train to data-state="done" for 5 classes x 60 uploaded samples,
   50 epochs (the page's defaults: Dense(100, relu) -> softmax, Adam 0.001, batch 16, 15 % held
   back), and `await teachkit.train()` called through the API (in-page clock around the call).
   Reference: Keras fit of the same head on the page's own embeddings and split
   (`teachkit.samples()` with its heldOut flags; fit only), run right after each page training.
   Ratio page/Keras. Also the matMul kernels of one training step, timed alone in the page with
   TF.js's engine: matMul with transposeA against transpose + matMul.
4. live: predictions per second on Chromium's fake webcam (a 30 fps Y4M made from a photo),
   counted from `teachkit.status().predictions` over a window, after recording samples by holding
   the record button, with each frame's latency (the `milliseconds` of the API's `prediction`
   event: frame taken → crop, post to a worker, embed, head). Then the same in a tab with
   ?workers=0 (the model on the page), for comparison. Reference: the fake camera's frame rate
   (requestVideoFrameCallback). Also what a held record button collects: frames per hold, when
   recording stopped, how long the JPEG encodes take.
5. longest main-thread task (PerformanceObserver 'longtask', only tasks >= 50 ms exist) while
   recording, uploading, training and predicting live: the median over runs of each run's
   longest, and the longest of all. Target: none over 100 ms while recording or training.
6. first prediction: ms from navigation start to [data-testid=status] data-state="ready" on fresh
   loads (new browser context: empty cache and IndexedDB), and on return visits that restore 300
   samples and a trained head (a prediction is possible at ready). Reference: fetching model.json
   and its weight shards with nothing else, from a fresh context of the same browser.
7. memory: performance.memory.usedJSHeapSize (after a forced GC) before and after adding 1,500
   images (128x128 crops, 300 per class), with TF.js tensors, the WASM heap and IndexedDB usage;
   then training, one predicted image (the page still responds) and a reload.

The benchmark reaches the page only through its public API (`window.teachkit`, 1.0.0) and the
data-testid attributes (docs/automation.md); `window._tfengine` is TensorFlow.js's own
engine (tensor counts, memory, the raw matMul kernels). Measures the API does not offer were
dropped with the page's internal App object: the crop alone (centre square onto the input canvas),
the graph model alone on a ready tensor (predict + dataSync, with ?workers=0) and the TF.js kernels
of one embedding (tf.profile of that graph model).

One module per measurement in bench/pagebench/; the programs run in the page in bench/probes/.

Usage: python bench/page.py [--quick] [--out DIR]
TEACHKIT_CACHE (default ~/.cache/teachkit) keeps the converted model between runs.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.pagebench.run import main  # noqa: E402

if __name__ == "__main__":
    main(__doc__.splitlines()[0])
