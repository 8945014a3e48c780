"""3. training: s from the click on Train to data-state="done" for 5 classes x 60 uploaded samples
with the page's defaults, and `await teachkit.train()` through the API, each round followed by a
Keras fit of the same head on the page's own embeddings and split; the matMul kernels of one
training step alone; and 6b, return visits that restore the samples and the trained head."""

from __future__ import annotations

import math
import time
from pathlib import Path

import numpy as np

from .harness import blocking, long_tasks, median, open_tab, probe, reload_ready, rounded, train, upload
from .inputs import BATCH_SIZE, EPOCHS, HIDDEN_UNITS, LEARNING_RATE, SOURCES


def measure_training(
    browser: object, url: str, files: dict[str, list[Path]], repeats: int, reloads: int
) -> dict:
    """Per round: the page trains (click → done), trains again through the API
    (`teachkit.train()`), and Keras fits the same head on the page's embeddings, one after the
    other."""
    tab = open_tab(browser, url)
    page = tab.page
    windows, through_api, keras = [], [], []
    try:
        for name, class_files in files.items():
            upload(page, name, class_files, timeout_s=600)
        split = page.evaluate(probe("split"))
        for round_ in range(repeats):
            windows.append(train(page, timeout_s=900))
            trained = page.evaluate(probe("api_train"))
            if trained["epochs"] != EPOCHS:
                raise RuntimeError(f"teachkit.train() ran {trained['epochs']} epochs, not {EPOCHS}")
            through_api.append(trained["ms"] / 1000)
            keras.append(keras_fit(split, seed=42 + round_))
        tasks = [long_tasks(page, w.before, w.ended) for w in windows]
        shapes = {"batch": BATCH_SIZE, "inputs": 1280, "units": HIDDEN_UNITS, "runs": 200}
        matmul = page.evaluate(probe("matmul"), shapes)
        accuracy = page.evaluate("() => window.teachkit.evaluation()?.accuracy ?? null")
        returns = [reload_ready(page) for _ in range(reloads)]
        checks = {"foreign_requests": tab.foreign_requests(), "console_errors": list(tab.errors)}
    finally:
        tab.close()
    steps = math.ceil(len(split["training"]["y"]) / BATCH_SIZE) * EPOCHS
    return {
        "samples": len(split["training"]["y"]) + len(split["validation"]["y"]),
        "training_samples": len(split["training"]["y"]),
        "steps": steps,
        "total_s": rounded(median([w.seconds for w in windows]), 2),
        "runs_s": [rounded(w.seconds, 2) for w in windows],
        "api_s": rounded(median(through_api), 2),
        "api_runs_s": [rounded(t, 2) for t in through_api],
        "ms_per_step_api": rounded(median(through_api) * 1000 / steps, 2),
        "matmul_ms": {name: rounded(ms, 3) for name, ms in matmul.items()},
        "validation_accuracy": accuracy,
        "blocking": blocking(tasks),
        "return_visit": {
            "ready_ms": rounded(median([r["ready_ms"] for r in returns]), 0),
            "runs_ms": [rounded(r["ready_ms"], 0) for r in returns],
            "trained_at_ready": all(r["trained_at_ready"] for r in returns),
        },
        **checks,
        "keras": {
            "fit_s": rounded(median([t for t, _ in keras]), 2),
            "runs_s": [rounded(t, 2) for t, _ in keras],
            "validation_accuracy": rounded(median([a for _, a in keras]), 4),
        },
    }


def keras_fit(split: dict, seed: int) -> tuple[float, float]:
    """One Keras fit of the page's head on the page's own embeddings and split: seconds (fit
    only) and the last validation accuracy."""
    import keras

    x = np.asarray(split["training"]["x"], dtype=np.float32)
    y = np.asarray(split["training"]["y"])
    validation = (
        np.asarray(split["validation"]["x"], dtype=np.float32),
        np.asarray(split["validation"]["y"]),
    )
    keras.utils.set_random_seed(seed)
    model = keras.Sequential(
        [
            keras.Input((x.shape[1],)),
            keras.layers.Dense(HIDDEN_UNITS, activation="relu"),
            keras.layers.Dense(len(SOURCES), activation="softmax"),
        ]
    )
    model.compile(
        optimizer=keras.optimizers.Adam(LEARNING_RATE),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    started = time.perf_counter()
    history = model.fit(x, y, batch_size=BATCH_SIZE, epochs=EPOCHS, validation_data=validation, verbose=0)
    return time.perf_counter() - started, history.history["val_accuracy"][-1]
