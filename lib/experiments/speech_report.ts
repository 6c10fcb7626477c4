/**
 * What notebook 07 shows of its runs (`speech.ts` runs them), as the one namespace the notebook
 * imports (`import * as view from "../lib/experiments/speech_report.ts"`). Each part has its own
 * module:
 * - `speech_tables.ts`: the systems table that opens the page, what the continuous reference
 *   reaches, the set-up table, the MA-E and quality charts, the summary table;
 * - `speech_findings.ts`: the paired comparisons, their difference chart and the findings;
 * - `speech_listening.ts`: the listening table with real codecs as anchors;
 * - `speech_measures.ts`: the numbers all three read off a run or group.
 *
 * @module
 */
export * from "./speech_measures.ts";
export * from "./speech_tables.ts";
export * from "./speech_findings.ts";
export * from "./speech_listening.ts";
