import type { AnyStateMachine, ContextFrom, SnapshotFrom } from "xstate";
import type {
  AggregatingStateDescriptor,
  ListStateDescriptor,
  MapStateDescriptor,
  ReducingStateDescriptor,
  StateDeclarations,
  ValueStateDescriptor,
} from "../state/descriptors.js";
import type { FunctionType } from "./define-function.js";
import type { MachineFunctionType, MachineInspection } from "./from-machine.js";

/**
 * What a query returns for one declared state of a key: a value state's value, a list's array, a
 * map's `Map`, a reducing state's value, an aggregating state's result (`getResult`).
 */
export type StateValueOf<D> =
  D extends ValueStateDescriptor<infer T>
    ? T
    : D extends ListStateDescriptor<infer T>
      ? T[]
      : D extends MapStateDescriptor<infer K, infer V>
        ? Map<K, V>
        : D extends ReducingStateDescriptor<infer T>
          ? T
          : // biome-ignore lint/suspicious/noExplicitAny: only the result type matters here
            D extends AggregatingStateDescriptor<any, any, infer OUT>
            ? OUT
            : never;

/** One key's declared states as a query returns them: each present only when the key has it. */
export type KeyedStateOf<S extends StateDeclarations> = { readonly [K in keyof S]?: StateValueOf<S[K]> };

/**
 * The state a queryable-state query returns for one address of function type `F`: for a
 * `fromMachine` type the machine's inspection (`{ value, context, status, output, delayed }`,
 * typed by the machine), for a `defineFunction` type its declared states by name
 * (`{ total?: number }` for `state: { total: valueState<number>() }`).
 *
 * ```ts
 * const answer = await client.query(counter, "user-7");
 * if (answer.found) answer.state.total; // number | undefined
 * ```
 */
export type FunctionStateOf<F> =
  F extends MachineFunctionType<infer T extends AnyStateMachine>
    ? MachineInspection<SnapshotFrom<T>["value"], ContextFrom<T>>
    : // biome-ignore lint/suspicious/noExplicitAny: any message type
      F extends FunctionType<any, infer S extends StateDeclarations>
      ? KeyedStateOf<S>
      : never;
