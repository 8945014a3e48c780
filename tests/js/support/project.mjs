// A project as the build hands it to the page (no TF.js, no features: cheap to import).

export const EMBEDDING_SIZE = 8;

// The settings spec as builder/config.py's settings_spec() gives it (one setting of each kind is
// enough for the pages here; tests/test_settings_agree.py feeds the page the real one).
export const SETTINGS_SPEC = [
  {
    section: "head",
    key: "type",
    label: "Classifier",
    kind: "choice",
    choices: [
      { value: "dense", label: "small neural network" },
      { value: "knn", label: "nearest neighbours" },
      { value: "regression", label: "a number" },
    ],
    default: "dense",
  },
  {
    section: "head",
    key: "hidden_units",
    label: "Hidden layer sizes",
    kind: "integer_list",
    min: 1,
    max: 4096,
    min_exclusive: false,
    max_exclusive: false,
    max_items: 4,
    default: [100],
  },
  {
    section: "head",
    key: "dropout",
    label: "Dropout",
    kind: "number",
    min: 0,
    max: 0.9,
    min_exclusive: false,
    max_exclusive: false,
    default: 0,
  },
  {
    section: "head",
    key: "k",
    label: "Neighbours (k)",
    kind: "integer",
    min: 1,
    max: 100,
    min_exclusive: false,
    max_exclusive: false,
    default: 3,
  },
  {
    section: "training",
    key: "epochs",
    label: "Epochs",
    kind: "integer",
    min: 1,
    max: 1000,
    min_exclusive: false,
    max_exclusive: false,
    default: 50,
  },
  {
    section: "training",
    key: "learning_rate",
    label: "Learning rate",
    kind: "number",
    min: 0,
    max: 1,
    min_exclusive: true,
    max_exclusive: false,
    default: 0.001,
  },
  {
    section: "training",
    key: "validation_fraction",
    label: "Held back for checking",
    kind: "number",
    min: 0,
    max: 0.5,
    min_exclusive: false,
    max_exclusive: false,
    default: 0.15,
  },
];

// The page config of a classes page, as the build writes it (builder/config.py page_config, plus
// the model the build adds); `overrides` replace whole top-level entries.
export function pageConfig(overrides = {}) {
  return {
    title: "Surfaces",
    description: "",
    classes: ["Brick", "Grass", "Gravel"],
    regression: null,
    head: { type: "dense", hidden_units: [16], activation: "relu", dropout: 0, k: 3 },
    training: { epochs: 30, batch_size: 8, learning_rate: 0.05, validation_fraction: 0.25, seed: 42 },
    capture: { fps: 10 },
    page: { mode: "teach" },
    embed: { allowed_origins: [] },
    cloud: { url: null },
    settings: SETTINGS_SPEC,
    model: {
      embedding_size: EMBEDDING_SIZE,
      input_size: 224,
      fingerprint: "fake-model-1",
      identity: { base: "fake" },
    },
    ...overrides,
  };
}
