import type { WindowSpec } from "@keyflow/functions-sdk";
import type { OperatorContext, StreamOperator } from "../operator/operator.js";

export function createWindowOperator(context: OperatorContext, _spec: WindowSpec): StreamOperator {
  throw new Error(`operator "${context.node.name}": window operators are not built yet`);
}
