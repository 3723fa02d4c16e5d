// NonRestoredStateError and UnalignedRescaleError are raised where a restore is loaded (checkpoint-protocol/); this folder's users import it from here.
export { NonRestoredStateError, UnalignedRescaleError } from "../checkpoint-protocol/errors.js";
