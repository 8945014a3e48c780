// The page's verdict on each setting value, for tests/test_settings_agree.py: feeds every case to
// `window.teachkit.setSettings` of a page without a browser (support/page.mjs) built from the
// page config Python wrote, and prints [true | false | other error code] as JSON.
// Usage: node --import ./support/register.mjs settings_verdicts.mjs cases.json, where cases.json
// is {config: page config, cases: [[section, key, value]]}.
import { readFileSync } from "node:fs";
import { fakePage, pageConfig } from "./support/page.mjs";

const { config, cases } = JSON.parse(readFileSync(process.argv[2], "utf8"));
// The build adds the model to the page config; the settings do not depend on it.
const page = fakePage({ project: { ...config, model: pageConfig().model } });
const verdicts = [];
for (const [section, key, value] of cases) {
  try {
    await page.api.setSettings({ [section]: { [key]: value } });
    verdicts.push(true);
  } catch (error) {
    verdicts.push(error.code === "bad_setting" ? false : error.code);
  }
}
page.close();
process.stdout.write(JSON.stringify(verdicts));
