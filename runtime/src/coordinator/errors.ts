// NonRestoredStateError is raised where a restore is loaded (checkpoint-protocol/); this folder's users import it from here.
export { NonRestoredStateError } from "../checkpoint-protocol/errors.js";
