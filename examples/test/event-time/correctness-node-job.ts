// A job module for `keyflow node` processes in the correctness tests: the correctness job over
// EVENTS for the case in KEYFLOW_WINDOW_CASE (JSON of a CorrectnessCase).
import { type CorrectnessCase, correctnessJob, EVENTS } from "./correctness-job.js";

const json = process.env.KEYFLOW_WINDOW_CASE;
if (json === undefined) throw new Error("KEYFLOW_WINDOW_CASE is not set");

export default correctnessJob(EVENTS, JSON.parse(json) as CorrectnessCase);
