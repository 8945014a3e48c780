// What the page's Chart.js charts share: drawn at once (no animation: they redraw every epoch),
// sized by their box, labelled in the theme's text colour, and a dashed red reference line; and
// Chart.js itself with the parts the learning curves and the regression plots draw with.
import {
  CategoryScale,
  Chart,
  Legend,
  LinearScale,
  LineController,
  LineElement,
  PointElement,
  ScatterController,
  Tooltip,
} from "chart.js";
import { cssColor } from "./dom.js";

Chart.register(
  ScatterController,
  LineController,
  LineElement,
  PointElement,
  LinearScale,
  CategoryScale,
  Legend,
  Tooltip,
);
export { Chart };

const REFERENCE_COLOUR = "#d1242f";

// The theme's colours as the canvas sees them: {primary, text}.
export function chartColours(canvas) {
  return { primary: cssColor(canvas, "--primary", "#1f6feb"), text: cssColor(canvas, "--text", "#1f2328") };
}

// A titled axis; `more` adds Chart.js scale options (min, max, more tick options).
export function titledAxis(title, text, { ticks = {}, ...more } = {}) {
  return { title: { display: true, text: title, color: text }, ticks: { color: text, ...ticks }, ...more };
}

// Options with `scales`; `legend` and `plugins` add to the legend's labels and the other plugins.
export function chartOptions(text, scales, { legend = {}, plugins = {} } = {}) {
  return {
    animation: false,
    responsive: true,
    maintainAspectRatio: false,
    plugins: { legend: { labels: { color: text, ...legend } }, ...plugins },
    scales,
  };
}

// The dataset drawn against the data: validation loss, the diagonal, zero error.
export function referenceLine(label) {
  return {
    label,
    data: [],
    borderColor: REFERENCE_COLOUR,
    backgroundColor: REFERENCE_COLOUR,
    borderDash: [6, 4],
    pointRadius: 0,
  };
}
